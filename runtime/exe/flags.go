package exe

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/generate"
)

// options are a produced executable's command line.
type options struct {
	prompt  string
	gen     generate.Options
	version bool
	info    bool
	help    bool
	timings bool
	threads int
}

// errUsage marks mistakes in how the program was called (unknown flags,
// values that do not parse, extra arguments); they exit with status 2.
type errUsage struct{ error }

// stopList is --stop: repeatable.
type stopList []string

func (s *stopList) String() string     { return strings.Join(*s, ",") }
func (s *stopList) Set(v string) error { *s = append(*s, v); return nil }

// newFlagSet defines the flags on o. The defaults are omexc run's.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by Run
	fs.Usage = func() {}
	fs.StringVar(&o.prompt, "p", "", "prompt text (empty: start from BOS)")
	fs.StringVar(&o.prompt, "prompt", "", "same as -p")
	fs.IntVar(&o.gen.MaxTokens, "n", 256, "maximum number of tokens to generate (0: until the context is full)")
	fs.Func("temp", "sampling temperature (0: greedy) (default 0.8)", float32Flag(&o.gen.Sampling.Temperature))
	fs.IntVar(&o.gen.Sampling.TopK, "top-k", 40, "keep the K most likely tokens (0: all)")
	fs.Func("top-p", "nucleus sampling: keep the smallest set with this probability mass (default 0.95)", float32Flag(&o.gen.Sampling.TopP))
	fs.Func("min-p", "drop tokens less likely than this fraction of the most likely one (default 0.05)", float32Flag(&o.gen.Sampling.MinP))
	fs.Func("seed", "random seed (default: from the clock); the same seed gives the same output", func(v string) error {
		s, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		o.gen.Sampling.Seed = uint64(s)
		return nil
	})
	fs.Var((*stopList)(&o.gen.Stop), "stop", "stop when this text is generated (repeatable)")
	fs.BoolVar(&o.gen.NoEcho, "no-echo", false, "do not print the prompt before the generated text")
	fs.IntVar(&o.threads, "t", 0, "threads for the matrix products and prompt rows (0: GOMAXPROCS, by default every CPU)")
	fs.IntVar(&o.threads, "threads", 0, "same as -t")
	fs.BoolVar(&o.timings, "timings", false, "after the text, print prompt and decode speed to stderr (one line, key=value)")
	fs.BoolVar(&o.version, "version", false, "print what built this executable and exit")
	fs.BoolVar(&o.info, "info", false, "print the model, plan and memory as JSON and exit")
	fs.BoolVar(&o.help, "help", false, "print this help and exit")
	fs.BoolVar(&o.help, "h", false, "same as --help")
	return fs
}

// float32Flag parses a flag value into *p.
func float32Flag(p *float32) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 32)
		if err != nil {
			return errors.New("not a number")
		}
		*p = float32(f)
		return nil
	}
}

// parseFlags reads args into options, starting from omexc run's defaults.
func parseFlags(args []string) (*options, error) {
	o := &options{}
	o.gen.Sampling.Temperature, o.gen.Sampling.TopP, o.gen.Sampling.MinP = 0.8, 0.95, 0.05
	o.gen.Sampling.RepetitionPenalty = 1
	seeded := false
	fs := newFlagSet(o)
	if err := fs.Parse(args); err != nil {
		return nil, errUsage{err}
	}
	if fs.NArg() > 0 {
		return nil, errUsage{fmt.Errorf("unexpected argument %q (give the prompt with -p)", fs.Arg(0))}
	}
	fs.Visit(func(f *flag.Flag) { seeded = seeded || f.Name == "seed" })
	if !seeded {
		o.gen.Sampling.Seed = uint64(time.Now().UnixNano())
	}
	if o.threads < 0 || o.threads > 4096 {
		return nil, omexerr.Inputf("input.bad_flag", "--threads must be 0..4096, got %d", o.threads).WithFlag("--threads")
	}
	if o.gen.MaxTokens < 0 {
		return nil, omexerr.Inputf("input.bad_flag", "-n must be >= 0, got %d", o.gen.MaxTokens).WithFlag("-n")
	}
	return o, nil
}

// writeUsage prints --help.
func writeUsage(w io.Writer, name string, f *Facts) {
	fmt.Fprintf(w, `%s: generate text with %s (built by omexc for %s)

Usage:
  %s [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p M] [--seed S] [--stop STR] [--no-echo] [-t N] [--timings]
  %s --version | --info | --help

Text streams to stdout as it is produced, starting with the prompt. -n
counts generated tokens. Everything the program needs is inside it.

Flags:
`, name, f.Model, f.Target, name, name)
	fs := newFlagSet(&options{})
	fs.VisitAll(func(fl *flag.Flag) {
		dash := "--"
		if len(fl.Name) == 1 {
			dash = "-"
		}
		def := ""
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "[]" && fl.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(w, "  %s%s\n    \t%s%s\n", dash, fl.Name, fl.Usage, def)
	})
	fmt.Fprint(w, `
Exit status: 0 success, 1 unexpected failure, 2 usage error,
11 InputError, 12 ModelError, 13 ResourceError, 14 ExecutionError,
15 HardwareError, 16 ZseiError, 17 ConfigurationError.
`)
}

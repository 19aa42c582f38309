package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
)

// emitKinds are the outputs compile can write (--emit). Code generation
// adds its kinds here.
var emitKinds = []string{"ir"}

func newCompileCmd() *cobra.Command {
	var (
		target, emit, outPath, tokPath string
		listPasses                     bool
	)
	var opt *passes.Options
	c := &cobra.Command{
		Use:   "compile MODEL [--target T] [--quant Q] [--emit=ir] [-o FILE] [pass flags]",
		Short: "Lower a model to OMEX IR and run the optimization passes",
		Long: `compile lowers MODEL (any input run accepts, or an IR text file ending in
.ir) to the OMEX IR, runs the pass pipeline on it, verifying the IR after
every pass, and writes the optimized IR (--emit=ir) to -o or stdout. What the
passes report (FLOPs saved, arena size, accuracy of the precision policy)
goes to stderr.

The pass flags are shared with omexc run: --disable-pass, --print-before,
--print-after, --time-passes, --dump-dir, --dump-html, --log-passes. They take
pass names as --list-passes shows them (comma-separated or repeated);
--print-before and --print-after also take "all". See docs/PASSES.md.`,
		Example: `  omexc compile model.gguf -o model.ir
  omexc compile model.gguf --quant q8_0 --time-passes --dump-html passes.html
  omexc compile model.ir --print-after=all --disable-pass=cse
  omexc compile --list-passes`,
		Args: func(cmd *cobra.Command, args []string) error {
			check := cobra.ExactArgs(1)
			if listPasses {
				check = cobra.MaximumNArgs(1)
			}
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if listPasses {
				return writePassList(cmd.OutOrStdout())
			}
			if !slices.Contains(emitKinds, emit) {
				return omexerr.Inputf("input.bad_flag", "unknown --emit %q; valid: %s", emit, strings.Join(emitKinds, ", ")).WithFlag("--emit")
			}
			opt.Target = target
			m, closeModel, err := loadModule(args[0], tokPath, opt)
			if err != nil {
				return err
			}
			defer closeModel()
			res, err := passes.Compile(cmd.Context(), m, *opt)
			if err != nil {
				return err
			}
			passes.WriteFindings(os.Stderr, res.Findings)
			return writeOutput(outPath, ir.Print(res.Module))
		},
	}
	f := c.Flags()
	f.StringVar(&target, "target", "", "the machine to compile for (default: the portable reference target)")
	f.StringVar(&emit, "emit", "ir", "what to write: "+strings.Join(emitKinds, ", "))
	f.StringVarP(&outPath, "output", "o", "-", "output file (-: stdout)")
	f.StringVar(&tokPath, "tokenizer", "", "tokenizer file (needed for llama2.c checkpoints: tokenizer.bin)")
	f.BoolVar(&listPasses, "list-passes", false, "list the passes in pipeline order and exit")
	opt = addPassFlags(f)
	return c
}

// addPassFlags defines the flags that select and show the optimization
// passes on fs and returns the options they fill in. compile and run share
// them so a pipeline seen with compile is the one run executes.
func addPassFlags(fs *pflag.FlagSet) *passes.Options {
	opt := &passes.Options{}
	fs.StringVar(&opt.Quant, "quant", "f32", "precision policy for the weights: "+strings.Join(passes.Quants, ", "))
	fs.StringSliceVar(&opt.DisablePass, "disable-pass", nil, "skip these passes (names, comma-separated or repeated)")
	fs.StringSliceVar(&opt.PrintBefore, "print-before", nil, `print the IR to stderr before these passes ("all" for every pass)`)
	fs.StringSliceVar(&opt.PrintAfter, "print-after", nil, `print the IR to stderr after these passes ("all" for every pass)`)
	fs.BoolVar(&opt.TimePasses, "time-passes", false, "print each pass's wall time to stderr")
	fs.StringVar(&opt.DumpDir, "dump-dir", "", "write the IR of every stage into this directory (00-input.ir, 01-<pass>.ir, …)")
	fs.StringVar(&opt.DumpHTML, "dump-html", "", "write one HTML page with the IR after every pass side by side")
	fs.BoolVar(&opt.LogPasses, "log-passes", false, "print the passes' detailed log to stderr")
	return opt
}

// loadModule reads MODEL as IR: an .ir file is parsed as IR text (it has no
// weights); any other input is opened by the importer and lowered by the
// frontend, and the passes may read its weights (opt.Weights) until closeModel
// is called.
func loadModule(path, tokPath string, opt *passes.Options) (m *ir.Module, closeModel func() error, err error) {
	if strings.HasSuffix(path, ".ir") {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, omexerr.Inputf("input.not_found", "cannot read the IR file").WithFile(path).Wrap(err)
		}
		m, err := ir.Parse(string(b))
		if e, ok := omexerr.As(err); ok {
			return nil, nil, e.WithFile(path) // it already says line:col and what is wrong
		}
		if err != nil {
			return nil, nil, omexerr.Inputf("input.bad_ir", "the IR file does not parse").WithFile(path).Wrap(err)
		}
		return m, func() error { return nil }, nil
	}
	src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tokPath})
	if err != nil {
		return nil, nil, err
	}
	m, err = lowerSource(src)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	opt.Weights = src.ReadTensor
	return m, src.Close, nil
}

// lowerSource turns an opened model into IR (frontend/lower), the module
// omexc run executes.
func lowerSource(src frontend.Source) (*ir.Module, error) { return lower.Lower(src) }

// writePassList prints the pipeline table: order, name, required, and what
// each pass does.
func writePassList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tpass\t\tdescription")
	for i, p := range passes.Pipeline() {
		req := ""
		if p.Required {
			req = "required"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i+1, p.Name, req, p.Description)
	}
	return tw.Flush()
}

// writeOutput writes the result to path ("-" is stdout). A file is written
// beside its final name and renamed into place, so a failed write never
// leaves a truncated output that looks complete.
func writeOutput(path, text string) error {
	if path == "-" {
		_, err := io.WriteString(os.Stdout, text)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot create the output").WithFile(path).WithFlag("-o").Wrap(err)
	}
	_, err = io.WriteString(tmp, text)
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes it private; the output is an ordinary file
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return omexerr.Resourcef("resource.io", "cannot write the output").WithFile(path).WithFlag("-o").Wrap(err)
	}
	return nil
}

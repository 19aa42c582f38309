// Package exe is the thin runtime of the executables omexc build produces:
// their generated main calls Main with the build's facts and a model
// constructor. It finds the weights appended to its own file (trailer.go,
// index.go), maps them, parses the command line with the standard flag
// package (a produced binary stays small) and streams generated text.
// docs/BUILD.md describes the executable and its byte layout.
package exe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// Program is one produced executable: its facts, how it builds its model
// and where its weights are.
type Program struct {
	Name     string // what the program calls itself in messages: its file's base name
	Facts    Facts
	NewModel NewModel
	// Path is the file holding the weights; "" means the running
	// executable (os.Executable).
	Path string
}

// Main is the whole of a produced executable's main function: it runs the
// program on os.Args, stops generating on Ctrl-C or SIGTERM, and exits
// with Run's status.
func Main(f Facts, newModel NewModel) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	name := "omex-model"
	if len(os.Args) > 0 {
		name = strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	}
	code := Run(ctx, Program{Name: name, Facts: f, NewModel: newModel}, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run executes the program with args (without the program name), writing
// text to stdout and problems to stderr, and returns the exit status:
// 0 success, 2 a usage error, an OMEX error's Category.ExitCode (11
// InputError, 12 ModelError, ...), 1 anything else.
func Run(ctx context.Context, p Program, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, &p, args, stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
	if e, ok := omexerr.As(err); ok {
		return e.Category.ExitCode()
	}
	var u errUsage
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "(see %s --help)\n", p.Name)
		return 2
	}
	return 1
}

func run(ctx context.Context, p *Program, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	switch {
	case o.help:
		writeUsage(stdout, p.Name, &p.Facts)
		return nil
	case o.version:
		p.Facts.writeVersion(stdout, p.Name)
		return nil
	}
	b, err := openSelf(p.Path)
	if err != nil {
		return err
	}
	defer b.Close()
	if o.info {
		return writeInfo(stdout, p.Name, &p.Facts, b)
	}
	if o.threads > 0 {
		// Before the model is built: its worker pool is sized from it.
		runtime.GOMAXPROCS(o.threads)
	}
	tok, err := tokenizer.New(b.Tokenizer())
	if err != nil {
		return omexerr.Modelf("model.tokenizer", "cannot build the tokenizer the executable carries").WithFile(b.File).Wrap(err)
	}
	m, err := p.NewModel(b)
	if err != nil {
		return err
	}
	res, err := generate.Run(ctx, m, tok, o.prompt, o.gen, stdout)
	if err != nil {
		return err
	}
	if _, err = io.WriteString(stdout, "\n"); err != nil {
		return err
	}
	if o.timings {
		writeTimings(stderr, res)
	}
	return nil
}

// writeTimings prints --timings: the generation loop's own clock, so the
// rates leave out process start, mapping and tokenizer construction.
// Decode counts Decode calls (Result.Decodes); a rate with nothing to time
// is 0.
func writeTimings(w io.Writer, r *generate.Result) {
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	rate := func(n int, d time.Duration) float64 {
		if n <= 0 || d <= 0 {
			return 0
		}
		return float64(n) / d.Seconds()
	}
	fmt.Fprintf(w, "timings: prompt_tokens=%d prompt_ms=%.3f prompt_tok_s=%.1f decode_tokens=%d decode_ms=%.3f decode_tok_s=%.1f first_token_ms=%.3f stop=%s\n",
		len(r.PromptIDs), ms(r.PromptTime), rate(len(r.PromptIDs), r.PromptTime),
		r.Decodes(), ms(r.GenerateTime), rate(r.Decodes(), r.GenerateTime), ms(r.FirstToken), r.Reason)
}

// openSelf opens the bundle at path, or in the running executable.
func openSelf(path string) (*Bundle, error) {
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, omexerr.Resourcef("resource.io", "cannot find the running executable to read its weights").Wrap(err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		path = exe
	}
	return Open(path)
}

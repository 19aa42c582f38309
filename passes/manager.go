// Package passes is the OMEX optimizer: an ordered pipeline of passes
// (pipeline.go) that each transform an ir.Module, and the manager that runs
// them, verifies the IR after every pass, and makes every stage visible
// (--print-after, --dump-dir, --dump-html, --time-passes).
package passes

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Pass is one step of the pipeline. Run transforms the module in place (the
// manager hands it a private copy) and returns an error only when it cannot
// do its job; a pass with nothing to do returns nil and changes nothing.
type Pass struct {
	Name        string // lower-case words joined by '-', e.g. "fuse-qkv"; used in flags and file names
	Run         func(*ir.Module, *Context) error
	Required    bool   // later stages depend on it: --disable-pass refuses it
	Description string // one line, shown by `omexc compile --list-passes`
}

// Context is what a pass may know about the compilation besides the module:
// the options it depends on, a place to report what it achieved, and a log.
type Context struct {
	// Ctx is cancelled when the user interrupts; long passes (precision runs
	// the interpreter) should check it.
	Ctx context.Context
	// Target names the machine the code is for ("" is the portable
	// reference target). Layout decisions depend on it.
	Target string
	// Quant is the precision policy: "f32" (the default), "f16", "bf16",
	// "q8_0" or "q4_0".
	Quant string
	// Weights reads a weight's values by name; nil when the module came
	// without weights (IR text), so passes that measure numbers must cope.
	Weights func(name string) (*tensor.Tensor, error)

	pass     string
	log      io.Writer
	findings *[]Finding
}

// PassName is the name of the pass now running ("" outside a pass).
func (c *Context) PassName() string { return c.pass }

// Logf writes a line of detail to the pass log (--log-passes), prefixed with
// the pass name. Without a log it does nothing.
func (c *Context) Logf(format string, args ...any) {
	if c.log == nil {
		return
	}
	fmt.Fprintf(c.log, "%s: %s\n", c.pass, strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
}

// Report records what the pass achieved or cost, both as a number that tests
// and tools can read back (key, value, unit) and as one sentence for people.
// Keys are stable snake_case words such as "flops_saved" or "arena_bytes".
func (c *Context) Report(key string, value float64, unit, format string, args ...any) {
	if c.findings == nil {
		return
	}
	*c.findings = append(*c.findings, Finding{Pass: c.pass, Key: key, Value: value, Unit: unit, Text: fmt.Sprintf(format, args...)})
}

// Finding is one measured result a pass reported.
type Finding struct {
	Pass  string  // the pass that reported it
	Key   string  // e.g. "arena_bytes"
	Value float64 // the number
	Unit  string  // "bytes", "flops", "ratio", "nats", … or ""
	Text  string  // one sentence, e.g. "arena 1.2 MiB, 31% of the naive 3.9 MiB"
}

// Timing is the wall time one pass took, and the verification after it.
type Timing struct {
	Pass   string
	Run    time.Duration
	Verify time.Duration
}

// Result is what a pipeline run produced.
type Result struct {
	Module   *ir.Module // the optimized module (the input is never modified)
	Findings []Finding  // in the order the passes reported them
	Timings  []Timing   // one per pass that ran, in order
}

// Finding returns the first finding with this pass and key.
func (r *Result) Finding(pass, key string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Pass == pass && f.Key == key {
			return f, true
		}
	}
	return Finding{}, false
}

// WriteFindings writes one "pass: sentence" line per finding.
func WriteFindings(w io.Writer, fs []Finding) {
	for _, f := range fs {
		fmt.Fprintf(w, "%s: %s\n", f.Pass, f.Text)
	}
}

// Options select which passes run and what the manager shows about them.
// The zero value runs every pass and shows nothing.
type Options struct {
	Target  string                                    // passed to passes as Context.Target
	Quant   string                                    // passed to passes as Context.Quant ("" means "f32")
	Weights func(name string) (*tensor.Tensor, error) // passed to passes as Context.Weights

	DisablePass []string // passes to skip (a Required pass cannot be skipped)
	PrintBefore []string // pass names, or "all": print the IR before them
	PrintAfter  []string // pass names, or "all": print the IR after them
	TimePasses  bool     // print a table of per-pass wall time at the end
	DumpDir     string   // write one file per stage into this directory
	DumpHTML    string   // write the side-by-side HTML page to this file
	LogPasses   bool     // let passes' Logf lines through

	// Out receives the printed IR, the timing table and the pass log;
	// nil means os.Stderr.
	Out io.Writer
}

// Quants are the precision policies Options.Quant accepts.
var Quants = []string{"f32", "f16", "bf16", "q8_0", "q4_0"}

// Manager runs one pipeline with one set of options.
type Manager struct {
	pipeline    []Pass
	opt         Options
	out         io.Writer
	disabled    map[string]bool
	printBefore map[string]bool
	printAfter  map[string]bool
}

// New checks the options against the pipeline: every pass name in a flag
// must exist (else an InputError listing the valid names) and no Required
// pass may be disabled.
func New(pipeline []Pass, opt Options) (*Manager, error) {
	mg := &Manager{pipeline: pipeline, opt: opt, out: opt.Out}
	if mg.out == nil {
		mg.out = os.Stderr
	}
	var err error
	if mg.disabled, err = mg.nameSet("--disable-pass", opt.DisablePass, false); err != nil {
		return nil, err
	}
	for _, p := range pipeline {
		if p.Required && mg.disabled[p.Name] {
			return nil, omexerr.Inputf("input.required_pass", "pass %q is required and cannot be disabled", p.Name).WithFlag("--disable-pass")
		}
	}
	if mg.printBefore, err = mg.nameSet("--print-before", opt.PrintBefore, true); err != nil {
		return nil, err
	}
	if mg.printAfter, err = mg.nameSet("--print-after", opt.PrintAfter, true); err != nil {
		return nil, err
	}
	if opt.Quant != "" && !slices.Contains(Quants, opt.Quant) {
		return nil, omexerr.Inputf("input.bad_flag", "unknown precision policy %q; valid: %s", opt.Quant, strings.Join(Quants, ", ")).WithFlag("--quant")
	}
	return mg, nil
}

// nameSet turns a flag's list of pass names into a set, rejecting unknown
// names. With allowAll, "all" selects every pass.
func (mg *Manager) nameSet(flag string, names []string, allowAll bool) (map[string]bool, error) {
	set := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if allowAll && n == "all" {
			for _, p := range mg.pipeline {
				set[p.Name] = true
			}
			continue
		}
		if !slices.ContainsFunc(mg.pipeline, func(p Pass) bool { return p.Name == n }) {
			valid := mg.names()
			if allowAll {
				valid = append(valid, "all")
			}
			if len(valid) == 0 {
				return nil, omexerr.Inputf("input.unknown_pass", "unknown pass %q: the pipeline has no passes", n).WithFlag(flag)
			}
			return nil, omexerr.Inputf("input.unknown_pass", "unknown pass %q; valid: %s", n, strings.Join(valid, ", ")).WithFlag(flag)
		}
		set[n] = true
	}
	return set, nil
}

func (mg *Manager) names() []string {
	var ns []string
	for _, p := range mg.pipeline {
		ns = append(ns, p.Name)
	}
	return ns
}

// BrokenIRError says a pass left the module in a state the verifier
// rejects. That is a bug in the pass, not in the user's input, so it carries
// no omexerr category (the CLI exits 1).
type BrokenIRError struct {
	Pass string // the pass that broke the IR
	Err  error  // what ir.Verify said
	Dump string // where the broken IR was written ("" when no dump was asked for)
}

// Error says which pass broke the IR and where its output was dumped.
func (e *BrokenIRError) Error() string {
	msg := fmt.Sprintf("internal compiler error: pass %s produced IR that does not verify: %v", e.Pass, e.Err)
	if e.Dump != "" {
		msg += " (the IR it produced is in " + e.Dump + ")"
	}
	return msg
}

// Run runs the pipeline on a copy of m. Before the first pass and after
// every pass the module is verified; the first pass that breaks it is named
// in a *BrokenIRError. A pass's own error is returned wrapped with its name.
// Dumps and the HTML page are written even when a pass fails, up to and
// including the broken stage, because that is when they are most needed.
func (mg *Manager) Run(ctx context.Context, m *ir.Module) (res *Result, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ir.Verify(m); err != nil {
		return nil, fmt.Errorf("the input IR does not verify: %w", err)
	}
	res = &Result{Module: m.Clone()}
	pc := &Context{Ctx: ctx, Target: mg.opt.Target, Quant: mg.opt.Quant, Weights: mg.opt.Weights, findings: &res.Findings}
	if pc.Quant == "" {
		pc.Quant = "f32"
	}
	if mg.opt.LogPasses {
		pc.log = mg.out
	}
	d, err := newDumper(mg.opt.DumpDir, mg.pipeline)
	if err != nil {
		return nil, err
	}
	var stages []stage
	wantStages := mg.opt.DumpHTML != ""
	record := func(s stage) error {
		if wantStages {
			stages = append(stages, s)
		}
		return d.write(s)
	}
	defer func() {
		if mg.opt.DumpHTML == "" {
			return
		}
		if herr := writeHTMLFile(mg.opt.DumpHTML, m.Name, stages); herr != nil && err == nil {
			err = herr
		}
	}()
	if d.enabled() || wantStages {
		if err := record(stage{Index: 0, Name: "input", Description: "the module as it came in", Text: ir.Print(res.Module)}); err != nil {
			return nil, err
		}
	}
	for i, p := range mg.pipeline {
		if mg.disabled[p.Name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, omexerr.Executionf("execution.interrupted", "compilation interrupted before pass %s", p.Name).Wrap(err)
		}
		if mg.printBefore[p.Name] {
			printStage(mg.out, "before", p.Name, ir.Print(res.Module))
		}
		pc.pass = p.Name
		start := time.Now()
		runErr := p.Run(res.Module, pc)
		ran := time.Since(start)
		pc.pass = ""
		if runErr != nil {
			return nil, fmt.Errorf("pass %s: %w", p.Name, runErr)
		}
		start = time.Now()
		verr := ir.Verify(res.Module)
		res.Timings = append(res.Timings, Timing{Pass: p.Name, Run: ran, Verify: time.Since(start)})
		var text string
		if verr != nil || mg.printAfter[p.Name] || d.enabled() || wantStages {
			text = ir.Print(res.Module)
		}
		if mg.printAfter[p.Name] {
			printStage(mg.out, "after", p.Name, text)
		}
		if d.enabled() || wantStages {
			s := stage{Index: i + 1, Name: p.Name, Description: p.Description, Text: text, Elapsed: ran}
			if verr != nil {
				s.Broken = verr.Error()
			}
			if err := record(s); err != nil {
				return nil, err
			}
		}
		if verr != nil {
			return nil, &BrokenIRError{Pass: p.Name, Err: verr, Dump: d.path(i+1, p.Name)}
		}
	}
	if mg.opt.TimePasses {
		writeTimings(mg.out, res.Timings)
	}
	return res, nil
}

// Compile runs the standard pipeline (pipeline.go) on m with the options.
func Compile(ctx context.Context, m *ir.Module, opt Options) (*Result, error) {
	mg, err := New(Pipeline(), opt)
	if err != nil {
		return nil, err
	}
	return mg.Run(ctx, m)
}

// writeTimings prints the --time-passes table: each pass's wall time, the
// verifier's time after it, and its share of the total.
func writeTimings(w io.Writer, ts []Timing) {
	var total time.Duration
	width := len("total")
	for _, t := range ts {
		total += t.Run + t.Verify
		width = max(width, len(t.Pass))
	}
	fmt.Fprintf(w, "%-*s %12s %12s %7s\n", width, "pass", "run", "verify", "share")
	for _, t := range ts {
		share := 0.0
		if total > 0 {
			share = 100 * float64(t.Run+t.Verify) / float64(total)
		}
		fmt.Fprintf(w, "%-*s %12s %12s %6.1f%%\n", width, t.Pass, fmtDur(t.Run), fmtDur(t.Verify), share)
	}
	fmt.Fprintf(w, "%-*s %12s\n", width, "total", fmtDur(total))
}

// fmtDur rounds a duration to a readable precision (µs under a second).
func fmtDur(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

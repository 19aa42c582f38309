package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/runtime/generate"
)

// benchPrompt is bench's default prompt: long enough (about 50 to 90
// tokens on the TinyStories tokenizers) that prefill is measured over more
// than a handful of tokens, and ending mid-sentence so that the story goes
// on rather than ending at once with EOS.
const benchPrompt = "Once upon a time, there was a little girl named Lily. She lived in a small house " +
	"near the woods with her mom, her dad and a big brown dog called Max. Every morning Lily and Max " +
	"went outside to play in the garden. One day, Lily found"

// benchFlags are bench's command line.
type benchFlags struct {
	tokPath, prompt, exe string
	n, runs, threads     int
	json                 bool
}

// benchRow is one path's measurement. Rates are tokens per second; 0 means
// the path could not be measured that way (see Note).
type benchRow struct {
	Path        string  `json:"path"`
	PromptTokS  float64 `json:"prompt_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
	PromptRatio float64 `json:"prompt_ratio"` // PromptTokS over the reference's
	DecodeRatio float64 `json:"decode_ratio"` // DecodeTokS over the reference's
	WholeRunMS  float64 `json:"whole_run_ms,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// benchReport is what bench prints with --json.
type benchReport struct {
	Model           string     `json:"model"`
	Executable      string     `json:"executable"`
	PromptTokens    int        `json:"prompt_tokens"`
	GeneratedTokens int        `json:"generated_tokens"`
	MaxTokens       int        `json:"max_tokens"`
	StopReason      string     `json:"stop_reason"`
	Runs            int        `json:"runs"`
	Threads         int        `json:"threads"`
	SameText        bool       `json:"exe_same_text"` // the executable printed the IR path's text
	Rows            []benchRow `json:"rows"`
}

func newBenchCmd() *cobra.Command {
	var bf benchFlags
	c := &cobra.Command{
		Use:   "bench MODEL [--tokenizer T] [-n N] [--prompt TEXT] [--runs R] [--threads K] [--exe PATH] [--json]",
		Short: "Measure prompt and decode speed: reference runtime, IR path, built executable",
		Long: `bench measures, in one run, greedy prompt and decode speed (tokens/s) of MODEL
on three paths and reports each as a ratio to the first:

  reference  the reference runtime (omexc run --reference)
  ir         the IR path: lowered, the full pass pipeline, the interpreter (omexc run)
  exe        an executable built for this machine (omexc build), or --exe PATH

Every path is timed by the generation loop itself (prompt: the prefill
call; decode: each Decode call), one untimed warm-up then the median of
--runs; the executable reports its loop's times with --timings, and its
whole-process time (start to exit) is shown beside. Greedy paths compute
the same tokens, so bench checks that the executable printed the IR path's
text.

--threads sets GOMAXPROCS for the in-process paths and in the executable's
environment. No speed is asserted anywhere: these are measurements.`,
		Example: `  omexc bench testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin -n 200
  omexc bench model.gguf --runs 9 --threads 4 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd, args[0], &bf)
		},
	}
	f := c.Flags()
	f.StringVar(&bf.tokPath, "tokenizer", "", "tokenizer file (needed for llama2.c checkpoints: tokenizer.bin)")
	f.IntVarP(&bf.n, "n", "n", 128, "tokens to generate per run (at least 2)")
	f.StringVarP(&bf.prompt, "prompt", "p", benchPrompt, "prompt text")
	f.IntVar(&bf.runs, "runs", 5, "timed runs per path; the median is reported")
	f.IntVar(&bf.threads, "threads", 0, "GOMAXPROCS for every path (0: leave as it is)")
	f.StringVar(&bf.exe, "exe", "", "time this executable (built by omexc build from MODEL) instead of building one")
	f.BoolVar(&bf.json, "json", false, "print the report as JSON")
	return c
}

// runBench is omexc bench.
func runBench(cmd *cobra.Command, modelPath string, bf *benchFlags) error {
	switch {
	case bf.n < 2:
		return omexerr.Inputf("input.bad_flag", "-n must be at least 2 (decode speed needs tokens after the first), got %d", bf.n).WithFlag("-n")
	case bf.runs < 1:
		return omexerr.Inputf("input.bad_flag", "--runs must be at least 1, got %d", bf.runs).WithFlag("--runs")
	case bf.threads < 0:
		return omexerr.Inputf("input.bad_flag", "--threads must be >= 0, got %d", bf.threads).WithFlag("--threads")
	}
	if bf.threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(bf.threads))
	}
	ctx := cmd.Context()
	opt := generate.Options{MaxTokens: bf.n}
	// Greedy (temperature 0): the other sampling parameters only need to be
	// valid, since nothing changes which token is the most likely.
	opt.Sampling.TopP, opt.Sampling.RepetitionPenalty = 1, 1

	rep := &benchReport{Model: modelPath, MaxTokens: bf.n, Runs: bf.runs, Threads: runtime.GOMAXPROCS(0)}
	noOpt := passes.Options{}
	ref, err := benchInProcess(cmd, modelPath, bf, opt, true, &noOpt)
	if err != nil {
		return err
	}
	irOpt := passes.Options{Quant: "f32"}
	irRow, err := benchInProcess(cmd, modelPath, bf, opt, false, &irOpt)
	if err != nil {
		return err
	}
	ref.row.Path, irRow.row.Path = "reference", "ir"
	rep.PromptTokens, rep.GeneratedTokens, rep.StopReason = len(irRow.last.PromptIDs), len(irRow.last.IDs), string(irRow.last.Reason)

	exePath := bf.exe
	if exePath == "" {
		dir, err := os.MkdirTemp("", "omexc-bench")
		if err != nil {
			return omexerr.Resourcef("resource.write", "cannot create a temporary directory for the executable").Wrap(err)
		}
		defer os.RemoveAll(dir)
		if exePath, err = benchBuild(ctx, modelPath, bf.tokPath, filepath.Join(dir, "model")); err != nil {
			return err
		}
		rep.Executable = "built for the host by omexc build"
	} else {
		rep.Executable = exePath
	}
	exeRow, same, err := benchExe(ctx, exePath, bf, irRow.last)
	if err != nil {
		return err
	}
	rep.SameText = same
	rep.Rows = []benchRow{ref.row, irRow.row, exeRow}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		r.PromptRatio, r.DecodeRatio = ratio(r.PromptTokS, ref.row.PromptTokS), ratio(r.DecodeTokS, ref.row.DecodeTokS)
	}
	w := cmd.OutOrStdout()
	if bf.json {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	return writeBenchTable(w, rep)
}

// benchResult is an in-process path's row and its last generation (whose
// token counts the executable's rates are derived with).
type benchResult struct {
	row  benchRow
	last *generate.Result
}

// benchInProcess loads MODEL on the reference runtime or the IR path, as
// omexc run does, and times one warm-up and bf.runs generations of it.
func benchInProcess(cmd *cobra.Command, modelPath string, bf *benchFlags, opt generate.Options, reference bool, passOpt *passes.Options) (*benchResult, error) {
	m, tok, err := loadRunModel(cmd, modelPath, bf.tokPath, reference, passOpt, false)
	if err != nil {
		return nil, err
	}
	var prompt, decode []float64
	var last *generate.Result
	for i := 0; i <= bf.runs; i++ {
		res, err := generate.Run(cmd.Context(), m, tok, bf.prompt, opt, io.Discard)
		if err != nil {
			return nil, err
		}
		if res.Reason == generate.StopCancelled {
			return nil, omexerr.Executionf("execution.cancelled", "bench was interrupted")
		}
		last = res
		if i == 0 {
			continue // warm-up: caches, page faults, the first allocation of buffers
		}
		prompt = append(prompt, rate(len(res.PromptIDs), res.PromptTime))
		decode = append(decode, rate(res.Decodes(), res.GenerateTime))
	}
	return &benchResult{row: benchRow{PromptTokS: median(prompt), DecodeTokS: median(decode)}, last: last}, nil
}

// benchBuild builds MODEL for the host at out by running this omexc's own
// build command, so the executable is what a user's omexc build makes.
func benchBuild(ctx context.Context, modelPath, tokPath, out string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", omexerr.Resourcef("resource.io", "cannot find the running omexc to build the executable with").Wrap(err)
	}
	args := []string{"build", modelPath, "-o", out}
	if tokPath != "" {
		args = append(args, "--tokenizer", tokPath)
	}
	c := exec.CommandContext(ctx, self, args...)
	var stderr bytes.Buffer
	c.Stdout, c.Stderr = io.Discard, &stderr
	if err := c.Run(); err != nil {
		return "", omexerr.Executionf("execution.build", "omexc build failed: %s", strings.TrimSpace(stderr.String())).WithFile(modelPath).Wrap(err)
	}
	return out, nil
}

// benchExe runs the executable --runs times after a warm-up, greedy with
// --timings, and takes the medians of the rates it reports (its own clock
// around prefill and the decode loop, as the in-process paths are timed)
// and of the whole-process time. It reports whether the executable printed
// ir's text.
func benchExe(ctx context.Context, exePath string, bf *benchFlags, ir *generate.Result) (benchRow, bool, error) {
	row := benchRow{Path: "exe"}
	env := os.Environ()
	if bf.threads > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(bf.threads))
	}
	var prompt, decode, whole []float64
	var out string
	for i := 0; i <= bf.runs; i++ {
		c := exec.CommandContext(ctx, exePath, "-p", bf.prompt, "-n", strconv.Itoa(bf.n), "--temp", "0", "--no-echo", "--timings")
		c.Env = env
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		start := time.Now()
		err := c.Run()
		d := time.Since(start)
		if err != nil {
			return row, false, omexerr.Executionf("execution.exe_failed", "the executable failed: %s", strings.TrimSpace(stderr.String())).WithFile(exePath).Wrap(err)
		}
		out = stdout.String()
		t, err := parseTimings(stderr.String())
		if err != nil {
			return row, false, omexerr.Executionf("execution.exe_timings", "the executable's --timings line: %v", err).WithFile(exePath)
		}
		if i == 0 {
			continue // warm-up: the page cache, the CPU's clock
		}
		prompt, decode, whole = append(prompt, t["prompt_tok_s"]), append(decode, t["decode_tok_s"]), append(whole, d.Seconds())
	}
	row.PromptTokS, row.DecodeTokS, row.WholeRunMS = median(prompt), median(decode), median(whole)*1000
	same := out == ir.Text+"\n"
	if !same {
		row.Note = "its text differs from the IR path's"
	}
	return row, same, nil
}

// parseTimings reads the key=value numbers of an executable's --timings
// line from its stderr.
func parseTimings(stderr string) (map[string]float64, error) {
	for _, line := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(line, "timings: ")
		if !ok {
			continue
		}
		t := map[string]float64{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				t[k] = x
			}
		}
		if _, ok := t["prompt_tok_s"]; !ok {
			return nil, fmt.Errorf("no prompt_tok_s in %q", line)
		}
		if _, ok := t["decode_tok_s"]; !ok {
			return nil, fmt.Errorf("no decode_tok_s in %q", line)
		}
		return t, nil
	}
	return nil, fmt.Errorf("no line starting \"timings: \" (was the executable built by an older omexc?)")
}

// writeBenchTable prints the report for people.
func writeBenchTable(w io.Writer, rep *benchReport) error {
	fmt.Fprintf(w, "model %s: %d prompt tokens, %d generated (-n %d, stop: %s), greedy; median of %d runs, GOMAXPROCS %d\n",
		rep.Model, rep.PromptTokens, rep.GeneratedTokens, rep.MaxTokens, rep.StopReason, rep.Runs, rep.Threads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\tprompt tok/s\tdecode tok/s\tprompt vs ref\tdecode vs ref\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Path, num(r.PromptTokS, "%.1f"), num(r.DecodeTokS, "%.1f"), num(r.PromptRatio, "%.2fx"), num(r.DecodeRatio, "%.2fx"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	exe := rep.Rows[len(rep.Rows)-1]
	fmt.Fprintf(w, "exe: %s; whole run %.1f ms (process start to exit); rates from its --timings\n", rep.Executable, exe.WholeRunMS)
	if rep.SameText {
		fmt.Fprintln(w, "exe printed the IR path's text: greedy paths compute the same tokens and stop at the same one")
	}
	if exe.Note != "" {
		fmt.Fprintf(w, "exe: %s\n", exe.Note)
	}
	return nil
}

// num formats a rate or ratio, n/a when it could not be measured.
func num(v float64, format string) string {
	if v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// rate is tokens per second, 0 when nothing was timed.
func rate(tokens int, d time.Duration) float64 {
	if tokens <= 0 || d <= 0 {
		return 0
	}
	return float64(tokens) / d.Seconds()
}

// ratio is a over b, 0 when either is unknown.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

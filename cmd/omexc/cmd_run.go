package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omex-dev/omex/compile"
	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/resultcache"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/telemetry"
)

func newRunCmd() *cobra.Command {
	var (
		prompt, promptFile, tokPath string
		opt                         generate.Options
		seed                        int64
		metrics, reference          bool
		passOpt                     *passes.Options
		formatName, metricsJSON     string
		useCache                    bool
	)
	c := &cobra.Command{
		Use:   "run [MODEL] [-p PROMPT]",
		Short: "Generate text from a model",
		Long: `run generates text from MODEL: an OMEX package directory, a GGUF file, a
Hugging Face directory (config.json + safetensors + tokenizer.json), or a
llama2.c checkpoint (with --tokenizer). Text streams to stdout as it is
produced, starting with the prompt. -n counts generated tokens (llama.cpp's
convention; llama2.c's -n counts positions including the prompt).

The model runs on the IR path: it is lowered to OMEX IR, optimized by the
pass pipeline (the pass flags are those of omexc compile) and executed by the
IR interpreter, the whole prompt in one prefill call. --reference runs the
reference runtime directly instead (no passes); both give the same tokens.
With --metrics, what the passes report goes to stderr too.

Defaults not given by flags come from the configuration (docs/CONFIG.md):
[runtime] max_tokens, temperature, top_p, top_k, seed; [model] default_model
(when MODEL is omitted) and tokenizer; [performance] threads. --format json
streams NDJSON events ({"event":"chunk"} per piece of text, then
{"event":"result"}); --format markdown writes a document at the end.
--cache replays a deterministic run (--temp 0, or a fixed seed) from the
result cache in [storage] cache_dir, bounded by cache_max_mb.`,
		Example: `  omexc run testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin -p "Once upon a time" --temp 0
  omexc run model.gguf -p "Hello" -n 64 --temp 0.8 --top-p 0.9 --seed 42`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			modelPath, seedFixed, err := applyRunConfig(cmd, cfg, args, &opt, &tokPath, seed)
			if err != nil {
				return err
			}
			format, err := telemetry.ParseFormat(formatName)
			if err != nil {
				return err
			}
			if promptFile != "" {
				b, err := os.ReadFile(promptFile)
				if err != nil {
					return omexerr.Inputf("input.prompt_file", "cannot read the prompt file").WithFile(promptFile).WithFlag("--file").Wrap(err)
				}
				prompt = string(b)
			}
			if opt.MaxTokens < 0 {
				return omexerr.Inputf("input.bad_flag", "-n must be >= 0, got %d", opt.MaxTokens).WithFlag("-n")
			}
			if reference {
				if flag := changedPassFlag(cmd); flag != "" {
					return omexerr.Inputf("input.bad_flag", "--%s selects passes, which --reference does not run", flag).WithFlag("--" + flag)
				}
			}
			if cfg.Source("performance.threads") != config.FromDefault {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Performance.Threads))
			}
			out := telemetry.NewStream(format, os.Stdout)
			rep := runReport{path: modelPath, tokPath: tokPath, prompt: prompt, opt: opt, seedFixed: seedFixed, format: format, human: metrics, jsonFile: metricsJSON,
				engine: runEngine(reference, passOpt)}
			rc, err := openRunCache(cfg, useCache, &rep)
			if err != nil {
				return err
			}
			if e, ok := rc.get(); ok {
				if _, err := out.Write([]byte(e.Output)); err != nil {
					return err
				}
				res := &generate.Result{PromptIDs: e.PromptIDs, IDs: e.IDs, Text: e.Text, Reason: generate.StopReason(e.StopReason)}
				return rep.finish(out, res, rc.state, 0)
			}
			loadStart := time.Now()
			m, tok, err := loadRunModel(cmd, modelPath, tokPath, reference, passOpt, metrics)
			if err != nil {
				return err
			}
			loadTime := time.Since(loadStart)
			if s, ok := m.(*compile.Session); ok && (metrics || metricsJSON != "") {
				s.EnableProfile()
				rep.ops = s.Profile
			}
			slog.Debug("model loaded", "model", modelPath, "load_ms", loadTime.Milliseconds(), "reference", reference)
			res, err := generate.Run(cmd.Context(), m, tok, prompt, opt, out)
			if err != nil {
				return err
			}
			if res.Reason != generate.StopCancelled {
				rc.put(res, out.Output())
			}
			return rep.finish(out, res, rc.state, loadTime)
		},
	}
	f := c.Flags()
	f.StringVarP(&prompt, "prompt", "p", "", "prompt text")
	f.StringVarP(&promptFile, "file", "f", "", "read the prompt from this file")
	f.StringVar(&tokPath, "tokenizer", "", "tokenizer file (needed for llama2.c checkpoints: tokenizer.bin)")
	f.IntVarP(&opt.MaxTokens, "n", "n", 256, "maximum number of tokens to generate (0: until the context is full)")
	f.Float32Var(&opt.Sampling.Temperature, "temp", 0.8, "sampling temperature (0: greedy)")
	f.IntVar(&opt.Sampling.TopK, "top-k", 40, "keep the K most likely tokens (0: all)")
	f.Float32Var(&opt.Sampling.TopP, "top-p", 0.95, "nucleus sampling: keep the smallest set with this probability mass")
	f.Float32Var(&opt.Sampling.MinP, "min-p", 0.05, "drop tokens less likely than this fraction of the most likely one")
	f.Float32Var(&opt.Sampling.RepetitionPenalty, "repeat-penalty", 1.0, "penalty for tokens among the last --repeat-last-n (1: off)")
	f.IntVar(&opt.PenaltyWindow, "repeat-last-n", 64, "how many recent tokens the repetition penalty considers")
	f.Int64Var(&seed, "seed", 0, "random seed (default: from the clock); the same seed gives the same output")
	f.StringArrayVar(&opt.Stop, "stop", nil, "stop when this text is generated (repeatable)")
	f.BoolVar(&opt.NoEcho, "no-echo", false, "do not print the prompt before the generated text")
	f.BoolVar(&opt.NoBOS, "no-bos", false, "do not add the BOS token even if the model asks for it")
	f.BoolVar(&metrics, "metrics", false, "print timing (prompt, first token, tokens/s), peak memory and performance insights to stderr")
	f.StringVar(&metricsJSON, "metrics-json", "", "write the run's metrics and insights as JSON to this file")
	f.StringVar(&formatName, "format", "text", "result format: text (streamed), json (NDJSON events, streamed), markdown")
	f.BoolVar(&useCache, "cache", false, "reuse the result of an identical deterministic run from the result cache ([storage] cache_dir)")
	f.BoolVar(&reference, "reference", false, "run the reference runtime directly instead of the optimized IR on the interpreter")
	passOpt = addPassFlags(f)
	return c
}

// loadRunModel opens MODEL and builds what generates from it: the reference
// runtime's model (reference), or the lowered module after the pass
// pipeline, on the interpreter. With metrics, the passes' findings go to
// stderr.
func loadRunModel(cmd *cobra.Command, path, tokPath string, reference bool, opt *passes.Options, metrics bool) (generate.Model, *tokenizer.Tokenizer, error) {
	if reference {
		m, tok, err := importer.LoadReference(path, tokPath)
		if err != nil {
			return nil, nil, err
		}
		return generate.Reference(m), tok, nil
	}
	src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tokPath})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	tok, err := importer.NewTokenizer(src.Tokenizer(), path)
	if err != nil {
		return nil, nil, err
	}
	s, res, err := compile.Load(cmd.Context(), src, *opt)
	if err != nil {
		return nil, nil, err
	}
	if metrics {
		passes.WriteFindings(os.Stderr, res.Findings)
	}
	return s, tok, nil
}

// changedPassFlag returns the name of a pass flag the user set, or "".
func changedPassFlag(cmd *cobra.Command) string {
	probe := pflag.NewFlagSet("pass flags", pflag.ContinueOnError)
	addPassFlags(probe)
	name := ""
	probe.VisitAll(func(f *pflag.Flag) {
		if name == "" && cmd.Flags().Changed(f.Name) {
			name = f.Name
		}
	})
	return name
}

// applyRunConfig fills what the flags left unset from the configuration:
// the model, the tokenizer, -n, --temp, --top-p, --top-k and the seed. It
// returns the model path and whether the seed is fixed (from --seed or
// runtime.seed) rather than taken from the clock.
func applyRunConfig(cmd *cobra.Command, cfg *config.Config, args []string, opt *generate.Options, tokPath *string, seed int64) (string, bool, error) {
	changed := cmd.Flags().Changed
	modelPath := cfg.Model.DefaultModel
	if len(args) == 1 {
		modelPath = args[0]
	}
	if modelPath == "" {
		return "", false, usageError{fmt.Errorf("give MODEL, or set model.default_model in the configuration (see %s --help)", cmd.CommandPath())}
	}
	if !changed("tokenizer") && cfg.Model.Tokenizer != "" {
		*tokPath = cfg.Model.Tokenizer
	}
	r := cfg.Runtime
	if !changed("n") {
		opt.MaxTokens = r.MaxTokens
	}
	if !changed("temp") {
		opt.Sampling.Temperature = float32(r.Temperature)
	}
	if !changed("top-p") {
		opt.Sampling.TopP = float32(r.TopP)
	}
	if !changed("top-k") {
		opt.Sampling.TopK = r.TopK
	}
	switch {
	case changed("seed"):
		opt.Sampling.Seed = uint64(seed)
		return modelPath, true, nil
	case r.Seed != 0:
		opt.Sampling.Seed = uint64(r.Seed)
		return modelPath, true, nil
	}
	opt.Sampling.Seed = uint64(time.Now().UnixNano())
	return modelPath, false, nil
}

// runEngine describes what computes a run's tokens: the reference runtime,
// or the IR path with the pass options that can change numbers, and the
// omexc build. Cached results are only replayed for the same description.
func runEngine(reference bool, opt *passes.Options) string {
	if reference {
		return "reference; omexc " + versionString()
	}
	disabled := slices.Sorted(slices.Values(opt.DisablePass))
	return fmt.Sprintf("ir quant=%s disable=%s; omexc %s", opt.Quant, strings.Join(disabled, ","), versionString())
}

// runCache is the result cache as one `omexc run` uses it.
type runCache struct {
	c     *resultcache.Cache
	key   string
	state string // "off", "miss" or "hit"
}

// openRunCache looks the run up when --cache asks for it and the run is
// deterministic; otherwise the cache is off for this run.
func openRunCache(cfg *config.Config, want bool, r *runReport) (*runCache, error) {
	rc := &runCache{state: "off"}
	switch {
	case !want:
		return rc, nil
	case !resultcache.Deterministic(r.opt.Sampling, r.seedFixed):
		slog.Warn("--cache: not caching a random run; use --temp 0 or a fixed --seed")
		return rc, nil
	case cfg.Storage.CacheMaxMB == 0:
		slog.Debug("--cache: the result cache is off (storage.cache_max_mb = 0)")
		return rc, nil
	}
	c := resultcache.Open(cfg.Storage.CacheDir, cfg.Storage.CacheMaxBytes())
	modelID, err := c.ModelIdentity(r.path)
	if err != nil {
		return nil, err
	}
	tokID := ""
	if r.tokPath != "" {
		if tokID, err = c.ModelIdentity(r.tokPath); err != nil {
			return nil, err
		}
	}
	o := r.opt
	rc.c, rc.state = c, "miss"
	rc.key = resultcache.Key(resultcache.Request{Model: modelID, Tokenizer: tokID, Engine: r.engine, Prompt: r.prompt, Sampling: o.Sampling, MaxTokens: o.MaxTokens,
		Stop: o.Stop, NoBOS: o.NoBOS, NoEcho: o.NoEcho, PenaltyWindow: o.PenaltyWindow})
	return rc, nil
}

func (rc *runCache) get() (*resultcache.Entry, bool) {
	if rc.c == nil {
		return nil, false
	}
	e, ok := rc.c.Get(rc.key)
	if ok {
		rc.state = "hit"
	}
	slog.Debug("result cache", "key", rc.key, "state", rc.state)
	return e, ok
}

// put stores a finished run; a cache that cannot be written costs the
// next run time, not this one its result, so failure is only logged.
func (rc *runCache) put(res *generate.Result, output string) {
	if rc.c == nil {
		return
	}
	e := &resultcache.Entry{Output: output, Text: res.Text, PromptIDs: res.PromptIDs, IDs: res.IDs, StopReason: string(res.Reason)}
	if err := rc.c.Put(rc.key, e); err != nil {
		slog.Warn("result cache not written", "error", err)
	}
}

// runReport is what `omexc run` reports at its end.
type runReport struct {
	path, tokPath, prompt string
	opt                   generate.Options
	seedFixed             bool
	format                telemetry.Format
	engine                string // what computes the tokens, for the cache key
	human                 bool   // --metrics
	jsonFile              string // --metrics-json
	// ops reports the time per op kind on the IR path (nil on the
	// reference path, which has no ops to attribute time to).
	ops func() []interp.OpTime
}

// finish measures the run, ends the result stream, and writes the metrics
// where they were asked for. The bandwidth probe behind the insights runs
// only when metrics were asked for, after peak RSS is read so its buffers
// do not count.
func (r *runReport) finish(out *telemetry.Stream, res *generate.Result, cacheState string, load time.Duration) error {
	m := telemetry.FromResult(res)
	m.Model, m.LoadMS, m.Cache = r.path, float64(load.Microseconds())/1000, cacheState
	m.PeakRSSBytes, m.Threads = telemetry.PeakRSS(), runtime.GOMAXPROCS(0)
	p := r.opt.Sampling
	m.Sampling = telemetry.Sampling{MaxTokens: r.opt.MaxTokens, Temperature: p.Temperature, TopP: p.TopP, TopK: p.TopK, MinP: p.MinP,
		RepeatPenalty: p.RepetitionPenalty, Seed: p.Seed, SeedFixed: r.seedFixed}
	if r.human || r.jsonFile != "" {
		var traffic telemetry.WeightTraffic
		bw := 0.0
		if cacheState != "hit" {
			if src, err := importer.Open(r.path, importer.OpenOptions{Tokenizer: r.tokPath}); err == nil {
				traffic = telemetry.TrafficOf(src.Tensors())
				src.Close()
			}
			bw = telemetry.MeasureCopyBandwidth(telemetry.ProbeBytes, runtime.GOMAXPROCS(0), 3)
		}
		m.Derive(traffic, bw)
		if r.ops != nil {
			for _, o := range r.ops() {
				m.OpTimes = append(m.OpTimes, telemetry.OpTime{Op: o.Op, Calls: o.Calls, MS: float64(o.Time.Microseconds()) / 1000})
			}
		}
	}
	slog.Debug("run finished", "prompt_tokens", m.PromptTokens, "generated_tokens", m.GeneratedTokens, "tokens_per_second", m.TokensPerSecond,
		"time_to_first_token_ms", m.TimeToFirstTokenMS, "stop", m.StopReason, "cache", m.Cache, "peak_rss_bytes", m.PeakRSSBytes)
	final := telemetry.Final{Prompt: r.prompt, Text: res.Text, StopReason: string(res.Reason), PromptTokens: m.PromptTokens, GeneratedTokens: m.GeneratedTokens}
	if r.format != telemetry.FormatText {
		final.Metrics = &m
	}
	if err := out.Finish(final); err != nil {
		return err
	}
	if r.human {
		fmt.Fprintln(os.Stderr, m.Human())
	}
	if r.jsonFile != "" {
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(r.jsonFile, append(b, '\n'), 0o644); err != nil {
			return omexerr.Resourcef("resource.write", "cannot write the metrics file").WithFile(r.jsonFile).WithFlag("--metrics-json").Wrap(err)
		}
	}
	return nil
}

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omex-dev/omex/compile"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

func newRunCmd() *cobra.Command {
	var (
		prompt, promptFile, tokPath string
		opt                         generate.Options
		seed                        int64
		metrics, reference          bool
		passOpt                     *passes.Options
	)
	c := &cobra.Command{
		Use:   "run MODEL [-p PROMPT]",
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
With --metrics, what the passes report goes to stderr too.`,
		Example: `  omexc run testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin -p "Once upon a time" --temp 0
  omexc run model.gguf -p "Hello" -n 64 --temp 0.8 --top-p 0.9 --seed 42`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			if cmd.Flags().Changed("seed") {
				opt.Sampling.Seed = uint64(seed)
			} else {
				opt.Sampling.Seed = uint64(time.Now().UnixNano())
			}
			if reference {
				if flag := changedPassFlag(cmd); flag != "" {
					return omexerr.Inputf("input.bad_flag", "--%s selects passes, which --reference does not run", flag).WithFlag("--" + flag)
				}
			}
			m, tok, err := loadRunModel(cmd, args[0], tokPath, reference, passOpt, metrics)
			if err != nil {
				return err
			}
			res, err := generate.Run(cmd.Context(), m, tok, prompt, opt, os.Stdout)
			if err != nil {
				return err
			}
			fmt.Fprintln(os.Stdout)
			if metrics {
				printRunMetrics(res)
			}
			return nil
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
	f.BoolVar(&metrics, "metrics", false, "print timing (prompt, first token, tokens/s) to stderr")
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
		m, tok, err := loadModel(path, tokPath)
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
	tok, err := tokenizer.New(src.Tokenizer())
	if err != nil {
		return nil, nil, omexerr.Modelf("model.tokenizer", "cannot build the tokenizer").WithFile(path).Wrap(err)
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

// loadModel opens any supported model input and builds the reference
// runtime's model and tokenizer from it.
func loadModel(path, tokPath string) (*model.Model, *tokenizer.Tokenizer, error) {
	src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tokPath})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	tok, err := tokenizer.New(src.Tokenizer())
	if err != nil {
		return nil, nil, omexerr.Modelf("model.tokenizer", "cannot build the tokenizer").WithFile(path).Wrap(err)
	}
	m, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

func printRunMetrics(r *generate.Result) {
	gen := len(r.IDs)
	tps := 0.0
	if r.GenerateTime > 0 {
		tps = float64(gen) / r.GenerateTime.Seconds()
	}
	fmt.Fprintf(os.Stderr, "prompt: %d tokens in %v; first token after %v; generated %d tokens in %v (%.1f tokens/s); stop: %s\n",
		len(r.PromptIDs), r.PromptTime.Round(time.Microsecond), r.FirstToken.Round(time.Microsecond), gen, r.GenerateTime.Round(time.Microsecond), tps, r.Reason)
}

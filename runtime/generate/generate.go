// Package generate is the token generation loop: it feeds a prompt through a
// model, samples new tokens and streams their text as they are produced.
package generate

import (
	"context"
	"io"
	"time"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/sample"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// Options control one generation.
type Options struct {
	MaxTokens int           // new tokens to generate at most; <= 0 means until the context is full
	Sampling  sample.Params // temperature, top-k, top-p, min-p, penalty, seed
	Stop      []string      // stop sequences: generation ends before the first one produced
	NoBOS     bool          // do not prepend BOS even if the tokenizer asks for it
	NoEcho    bool          // do not stream the prompt's text before the generated text
	// PenaltyWindow is how many recent tokens the repetition penalty looks
	// at (llama.cpp's repeat_last_n); 0 means 64.
	PenaltyWindow int
}

// StopReason says why generation ended.
type StopReason string

// The reasons generation ends.
const (
	StopMaxTokens   StopReason = "max_tokens"
	StopEOS         StopReason = "eos"
	StopSequence    StopReason = "stop_sequence"
	StopContextFull StopReason = "context_full"
	StopCancelled   StopReason = "cancelled"
)

// Result is what a generation produced and how long it took.
type Result struct {
	PromptIDs    []int // the prompt's tokens, BOS included when added
	IDs          []int // the generated tokens (a stop sequence's tokens included)
	Text         string
	Reason       StopReason
	PromptTime   time.Duration // feeding the prompt
	GenerateTime time.Duration // producing the new tokens
	FirstToken   time.Duration // from start to the first generated token
}

// Decodes is how many Decode calls the generation made: one per
// generated token except the last, which is decoded only when the model
// then said EOS (its logits chose the EOS).
func (r *Result) Decodes() int {
	if r.Reason == StopEOS {
		return len(r.IDs)
	}
	return max(len(r.IDs)-1, 0)
}

// Run generates text for prompt and streams it to out as it is produced:
// first the prompt's own text (unless NoEcho), then each new token's text as
// soon as it forms whole UTF-8 characters and cannot be the start of a stop
// sequence. The whole prompt goes through one Prefill call; each generated
// token then goes through Decode. A generated EOS ends generation; so does a
// generated BOS, which llama2.c-style story models emit between documents.
func Run(ctx context.Context, m Model, tok *tokenizer.Tokenizer, prompt string, opt Options, out io.Writer) (*Result, error) {
	vocab, seqLen := m.VocabSize(), m.ContextLength()
	spec := tok.Spec()
	if tok.VocabSize() > vocab {
		return nil, omexerr.Modelf("model.vocab_mismatch", "tokenizer has %d tokens but the model's vocabulary is %d", tok.VocabSize(), vocab)
	}
	smp, err := sample.New(opt.Sampling)
	if err != nil {
		return nil, err
	}
	ids := tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: spec.AddBOS && !opt.NoBOS, AddEOS: spec.AddEOS})
	if len(ids) == 0 {
		// Nothing to condition on: start from BOS as llama2.c does.
		if spec.BOS < 0 {
			return nil, omexerr.Inputf("input.empty_prompt", "the prompt is empty and the tokenizer has no BOS token to start from").WithFlag("--prompt")
		}
		ids = []int{spec.BOS}
	}
	if len(ids) > seqLen {
		return nil, omexerr.Inputf("input.prompt_too_long", "the prompt is %d tokens but the model's context is %d tokens", len(ids), seqLen).WithFlag("--prompt")
	}
	res := &Result{PromptIDs: append([]int(nil), ids...)}
	m.Reset()
	dec := tokenizer.NewStreamDecoder(tok)
	w := newStopWriter(out, opt.Stop)
	if !opt.NoEcho {
		for _, id := range ids {
			if err := w.echo(dec.Next(id)); err != nil {
				return nil, err
			}
		}
	} else {
		for _, id := range ids {
			dec.Next(id)
		}
	}

	window := opt.PenaltyWindow
	if window <= 0 {
		window = 64
	}
	start := time.Now()
	if ctx.Err() != nil {
		res.Reason = StopCancelled
		return res, nil
	}
	logits, err := m.Prefill(ids, 0)
	if err != nil {
		return nil, err
	}
	if err := checkLogits(logits, vocab); err != nil {
		return nil, err
	}
	res.PromptTime = time.Since(start)
	genStart := time.Now()
	history := append([]int(nil), ids...)
	res.Reason = StopMaxTokens
	for n := 0; opt.MaxTokens <= 0 || n < opt.MaxTokens; n++ {
		if ctx.Err() != nil {
			res.Reason = StopCancelled
			break
		}
		recent := history
		if len(recent) > window {
			recent = recent[len(recent)-window:]
		}
		next := smp.Sample(logits, recent)
		if n == 0 {
			res.FirstToken = time.Since(start)
		}
		if next == spec.EOS || next == spec.BOS {
			res.Reason = StopEOS
			break
		}
		res.IDs = append(res.IDs, next)
		history = append(history, next)
		piece := dec.Next(next)
		stopped, err := w.write(piece)
		if err != nil {
			return nil, err
		}
		if stopped {
			res.Reason = StopSequence
			break
		}
		pos := len(history) - 1
		if pos >= seqLen {
			res.Reason = StopContextFull
			break
		}
		if opt.MaxTokens > 0 && n+1 == opt.MaxTokens {
			break // the logits after the last token would go unused
		}
		if logits, err = m.Decode(next, pos); err != nil {
			return nil, err
		}
		if err := checkLogits(logits, vocab); err != nil {
			return nil, err
		}
	}
	if res.Reason != StopSequence {
		rest := dec.Flush()
		if _, err := w.write(rest); err != nil {
			return nil, err
		}
		if err := w.flush(); err != nil {
			return nil, err
		}
	}
	res.GenerateTime = time.Since(genStart)
	res.Text = w.generated()
	return res, nil
}

// checkLogits makes sure a model returned one score per vocabulary entry, so
// a broken model is an error rather than a sampler reading out of range.
func checkLogits(logits []float32, vocab int) error {
	if len(logits) != vocab {
		return omexerr.Executionf("execution.bad_logits", "the model returned %d logits for a vocabulary of %d", len(logits), vocab)
	}
	return nil
}

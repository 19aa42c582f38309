package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// modelExecutor runs model_inference nodes with the reference runtime. A
// model is loaded once per run and shared by the nodes that use it, one
// generation at a time (the model holds its KV cache).
type modelExecutor struct {
	mu     sync.Mutex
	loaded map[string]*loadedModel
}

// loadedModel is one model of the run; lock is held while it loads or
// generates (a channel, so waiting for it respects cancellation).
type loadedModel struct {
	lock chan struct{}
	m    *model.Model
	tok  *tokenizer.Tokenizer
	err  error
	done bool
}

func newModelExecutor() *modelExecutor {
	return &modelExecutor{loaded: map[string]*loadedModel{}}
}

// acquire returns the model, loaded, with its lock held; release with
// <-lm.lock.
func (e *modelExecutor) acquire(ctx context.Context, path, tokPath string) (*loadedModel, error) {
	key := path + "\x00" + tokPath
	e.mu.Lock()
	lm := e.loaded[key]
	if lm == nil {
		lm = &loadedModel{lock: make(chan struct{}, 1)}
		e.loaded[key] = lm
	}
	e.mu.Unlock()
	select {
	case lm.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !lm.done {
		lm.m, lm.tok, lm.err = importer.LoadReference(path, tokPath)
		lm.done = lm.err == nil || omexerr.CategoryOf(lm.err) == omexerr.Model // only a bad model is final
	}
	if lm.err != nil {
		err := lm.err
		if !lm.done {
			lm.err = nil
		}
		<-lm.lock
		return nil, err
	}
	return lm, nil
}

func (e *modelExecutor) execute(ctx context.Context, t *task) (*result, error) {
	ref := t.c.ModelReference
	lm, err := e.acquire(ctx, resolvePath(t.baseDir, ref.Path), resolvePath(t.baseDir, ref.Tokenizer))
	if err != nil {
		return nil, err
	}
	defer func() { <-lm.lock }()
	opt := generationOptions(t)
	cfg := lm.m.Config()
	prompt, note, err := buildPrompt(lm.tok, cfg.SeqLen, opt.MaxTokens, t.node.Guidance, t.inputs)
	if err != nil {
		return nil, omexerr.Inputf("engine.prompt_too_long", "node %q: %v", t.node.ID, err)
	}
	res, err := generate.Run(ctx, generate.Reference(lm.m), lm.tok, prompt, opt, io.Discard)
	if err != nil {
		return nil, err
	}
	if res.Reason == generate.StopCancelled {
		return nil, context.Cause(ctx)
	}
	out := &result{
		outputs:         map[string]json.RawMessage{"text": jsonString(res.Text), "prompt": jsonString(prompt)},
		promptTokens:    len(res.PromptIDs),
		generatedTokens: len(res.IDs),
		notes:           []string{"stop: " + string(res.Reason)},
	}
	if note != "" {
		out.notes = append(out.notes, note)
	}
	return out, nil
}

// generationOptions layers the run's defaults, the container's
// execution_config and the node's model_config.
func generationOptions(t *task) generate.Options {
	opt := generate.Options{MaxTokens: t.gen.MaxTokens, Sampling: t.gen.Sampling, NoEcho: true}
	ec := t.c.ExecutionConfig
	setInt(&opt.MaxTokens, ec.MaxTokens)
	setF32(&opt.Sampling.Temperature, ec.Temperature)
	setF32(&opt.Sampling.TopP, ec.TopP)
	setF32(&opt.Sampling.RepetitionPenalty, ec.RepetitionPenalty)
	opt.Stop = ec.StopSequences
	if mc := t.node.ModelConfig; mc != nil {
		setInt(&opt.MaxTokens, mc.MaxTokens)
		setF32(&opt.Sampling.Temperature, mc.Temperature)
		setF32(&opt.Sampling.TopP, mc.TopP)
		setInt(&opt.Sampling.TopK, mc.TopK)
		setF32(&opt.Sampling.RepetitionPenalty, mc.RepetitionPenalty)
		if mc.Seed != nil {
			opt.Sampling.Seed = *mc.Seed
		}
		if mc.StopSequences != nil {
			opt.Stop = mc.StopSequences
		}
	}
	return opt
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setF32(dst *float32, v *float32) {
	if v != nil {
		*dst = *v
	}
}

// buildPrompt lays out the prompt: the guidance, then the material (inputs
// other than "prompt"), then the inputs named "prompt" (the request comes
// last, after what it is about). When it is longer than the model's context
// leaves room for (the context minus the tokens to generate, at most half
// of it), the material is cut short to fit and the note says so.
func buildPrompt(tok *tokenizer.Tokenizer, seqLen, maxTokens int, guidance string, inputs []Value) (prompt, note string, err error) {
	var material, request []string
	for _, v := range inputs {
		if v.Name == "prompt" {
			request = append(request, v.Text())
		} else {
			material = append(material, v.Text())
		}
	}
	body := strings.Join(material, "\n\n")
	layout := func(body string) string {
		var parts []string
		for _, p := range append(append([]string{guidance}, body), request...) {
			if strings.TrimSpace(p) != "" {
				parts = append(parts, strings.TrimSpace(p))
			}
		}
		return strings.Join(parts, "\n\n")
	}
	reserve := maxTokens
	if reserve <= 0 || reserve > seqLen/2 {
		reserve = seqLen / 2
	}
	budget := seqLen - reserve
	spec := tok.Spec()
	fits := func(p string) bool {
		return len(tok.Encode(p, tokenizer.EncodeOptions{AddBOS: spec.AddBOS})) <= budget
	}
	prompt = layout(body)
	if fits(prompt) {
		return prompt, "", nil
	}
	if !fits(layout("")) {
		return "", "", fmt.Errorf("the guidance and request alone are over the %d tokens the model's %d-token context leaves for the prompt", budget, seqLen)
	}
	// Binary search the longest prefix of the material, cut at a
	// character boundary, that fits.
	var cuts []int
	for i := range body {
		cuts = append(cuts, i)
	}
	lo, hi := 0, len(cuts)-1 // cuts[lo] fits (an empty body does); cuts[hi+1:] do not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(layout(body[:cuts[mid]] + "\n...")) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	kept := cuts[lo]
	if nl := strings.LastIndexByte(body[:kept], '\n'); nl > kept/2 {
		kept = nl // end on a whole line when that loses little
	}
	note = fmt.Sprintf("the inputs were cut to %d of %d bytes to fit the model's %d-token context (%d tokens left for the prompt)", kept, len(body), seqLen, budget)
	return layout(body[:kept] + "\n..."), note, nil
}

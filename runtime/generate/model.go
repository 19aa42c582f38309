package generate

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
)

// Model is what Run drives: anything that turns token ids into next-token
// logits while keeping its own context (the KV cache). The reference
// runtime (Reference) and the IR interpreter both provide it. The logits a
// call returns may be a buffer the model overwrites on its next call.
type Model interface {
	// Prefill runs tokens at positions pos.. and returns the logits after
	// the last of them. Positions before pos must already be in the context.
	Prefill(tokens []int, pos int) ([]float32, error)
	// Decode runs one token at position pos and returns its logits.
	Decode(token, pos int) ([]float32, error)
	// Reset forgets the context, so the next call starts at position 0.
	Reset()
	// ContextLength is the number of positions the context holds.
	ContextLength() int
	// VocabSize is the number of logits each call returns.
	VocabSize() int
}

// Reference adapts the reference runtime's model to Model. Its Prefill feeds
// the tokens one at a time through Forward, which is exactly what decoding
// them one by one would compute.
func Reference(m *model.Model) Model { return reference{m} }

// reference is the Model of a *model.Model.
type reference struct{ m *model.Model }

func (r reference) Prefill(tokens []int, pos int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, omexerr.Inputf("input.empty_prompt", "prefill needs at least one token")
	}
	var logits []float32
	for i, id := range tokens {
		var err error
		if logits, err = r.m.Forward(id, pos+i); err != nil {
			return nil, err
		}
	}
	return logits, nil
}

func (r reference) Decode(token, pos int) ([]float32, error) { return r.m.Forward(token, pos) }
func (r reference) Reset()                                   { r.m.Reset() }
func (r reference) ContextLength() int                       { return r.m.Config().SeqLen }
func (r reference) VocabSize() int                           { return r.m.Config().Vocab }

// Package compile joins the compiler's stages for one model: it lowers an
// opened model to IR (frontend/lower), runs the pass pipeline on it
// (passes) and runs the optimized module on the interpreter (ir/interp) as
// a generate.Model, so `omexc run` generates text through the IR. It lives
// outside runtime because runtime never imports the compiler.
package compile

import (
	"context"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/tensor"
)

// Session runs a module's prefill and decode functions on the interpreter,
// which holds the KV cache between calls. It is the IR path's
// generate.Model. It is not safe for concurrent use.
type Session struct {
	ip     *interp.Interp
	ctxLen int
	vocab  int
	ids    []int32
	logits []float32
}

var _ generate.Model = (*Session)(nil)

// Load lowers src, runs the standard pass pipeline on the module with opt
// (opt.Weights defaults to src.ReadTensor, so passes that measure numbers
// can) and starts a session on the optimized module, reading its weights
// from src. src may be closed once Load returns. The pipeline's result says
// what the passes did.
func Load(ctx context.Context, src frontend.Source, opt passes.Options) (*Session, *passes.Result, error) {
	m, err := lower.Lower(src)
	if err != nil {
		return nil, nil, err
	}
	if opt.Weights == nil {
		opt.Weights = src.ReadTensor
	}
	res, err := passes.Compile(ctx, m, opt)
	if err != nil {
		return nil, nil, err
	}
	s, err := NewSession(res.Module, src.ReadTensor)
	if err != nil {
		return nil, nil, err
	}
	return s, res, nil
}

// NewSession starts the interpreter on m, which must have the entry points
// the lowering makes: prefill(i32[seq], i32[]) returning f32[seq,V] or, once
// pruned, f32[1,V], and decode(i32[1], i32[]) returning f32[1,V]; and a ctx
// binding (the context length). weights reads the weights by name.
func NewSession(m *ir.Module, weights func(name string) (*tensor.Tensor, error)) (*Session, error) {
	vocab, err := checkEntryPoints(m)
	if err != nil {
		return nil, err
	}
	ctxLen, ok := m.DimValue("ctx")
	if !ok {
		return nil, omexerr.Modelf("model.bad_entry_point", "module %q binds no ctx dimension, so its context length is unknown", m.Name)
	}
	ip, err := interp.New(m, weights)
	if err != nil {
		return nil, err
	}
	return &Session{ip: ip, ctxLen: ctxLen, vocab: vocab, logits: make([]float32, vocab)}, nil
}

// checkEntryPoints checks the signatures of prefill and decode and returns
// the vocabulary size their logits have.
func checkEntryPoints(m *ir.Module) (int, error) {
	bad := func(format string, args ...any) (int, error) {
		return 0, omexerr.Modelf("model.bad_entry_point", format, args...)
	}
	vocab := 0
	for _, e := range []struct {
		name string
		rows ir.Dim
	}{{lower.Decode, ir.C(1)}, {lower.Prefill, ir.S("seq")}} {
		f := m.Func(e.name)
		if f == nil {
			return bad("module %q has no function @%s", m.Name, e.name)
		}
		want := "(i32[" + e.rows.String() + "], i32[]) -> f32[" + e.rows.String() + "|1,V]"
		if len(f.Params) != 2 || !f.Params[0].Type.Equal(ir.T(ir.I32, e.rows)) || !f.Params[1].Type.Equal(ir.T(ir.I32)) || len(f.Results) != 1 {
			return bad("function @%s must have the signature %s", e.name, want)
		}
		r := f.Results[0].Type
		if r.Elem != ir.F32 || r.Rank() != 2 || (r.Shape[0] != e.rows && r.Shape[0] != ir.C(1)) || !r.Shape[1].IsConst() {
			return bad("function @%s returns %s; it must have the signature %s", e.name, r, want)
		}
		if vocab == 0 {
			vocab = r.Shape[1].N
		} else if r.Shape[1].N != vocab {
			return bad("@prefill returns %d logits per row but @decode %d", r.Shape[1].N, vocab)
		}
	}
	if vocab < 1 {
		return bad("module %q returns logits of width 0", m.Name)
	}
	return vocab, nil
}

// Prefill runs tokens at positions pos.. through @prefill and returns the
// logits of the last one (the last row, when the module was not pruned).
// The slice is overwritten by the next call.
func (s *Session) Prefill(tokens []int, pos int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, omexerr.Inputf("input.empty_prompt", "prefill needs at least one token")
	}
	s.ids = s.ids[:0]
	for _, t := range tokens {
		if t < 0 || t >= s.vocab {
			return nil, omexerr.Inputf("input.token_out_of_vocab", "token id %d is outside the vocabulary (0..%d)", t, s.vocab-1)
		}
		s.ids = append(s.ids, int32(t))
	}
	return s.call(lower.Prefill, interp.I32Value(s.ids, len(s.ids)), pos)
}

// Decode runs one token at position pos through @decode and returns its
// logits. The slice is overwritten by the next call.
func (s *Session) Decode(token, pos int) ([]float32, error) {
	if token < 0 || token >= s.vocab {
		return nil, omexerr.Inputf("input.token_out_of_vocab", "token id %d is outside the vocabulary (0..%d)", token, s.vocab-1)
	}
	return s.call(lower.Decode, interp.Tokens(token), pos)
}

// call runs fn and copies the last row of its logits into s.logits.
func (s *Session) call(fn string, tokens interp.Value, pos int) ([]float32, error) {
	if pos < 0 || pos+tokens.Len() > s.ctxLen {
		return nil, omexerr.Executionf("execution.context_full", "positions %d..%d are outside the context window (0..%d)", pos, pos+tokens.Len()-1, s.ctxLen-1)
	}
	out, err := s.ip.Call(fn, tokens, interp.Scalar(pos))
	if err != nil {
		return nil, err
	}
	l := out[0].F32
	if len(l) < s.vocab || len(l)%s.vocab != 0 {
		return nil, omexerr.Executionf("execution.bad_logits", "@%s returned %s, not rows of %d logits", fn, out[0].TypeString(), s.vocab)
	}
	copy(s.logits, l[len(l)-s.vocab:])
	return s.logits, nil
}

// Reset forgets the context (clears the KV cache).
func (s *Session) Reset() { s.ip.Reset() }

// ContextLength is the module's ctx binding.
func (s *Session) ContextLength() int { return s.ctxLen }

// VocabSize is the width of the logits.
func (s *Session) VocabSize() int { return s.vocab }

// EnableProfile starts timing every instruction by op kind (see Profile).
func (s *Session) EnableProfile() { s.ip.EnableProfile() }

// Profile returns the time per op kind since EnableProfile.
func (s *Session) Profile() []interp.OpTime { return s.ip.Profile() }

// Module returns the module the session runs.
func (s *Session) Module() *ir.Module { return s.ip.Module() }

package interp_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// wantErr fails unless err is an OMEX error of category cat and code code
// whose message contains every part.
func wantErr(t *testing.T, what string, err error, cat omexerr.Category, code string, parts ...string) {
	t.Helper()
	e, ok := omexerr.As(err)
	if !ok {
		t.Errorf("%s: got %v, want a %v", what, err, cat)
		return
	}
	if e.Category != cat || e.Code != code {
		t.Errorf("%s: got %v [%s], want %v [%s]: %v", what, e.Category, e.Code, cat, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not mention %q", what, err, p)
		}
	}
}

// TestCallErrors checks that bad arguments and positions are reported as
// categorized errors naming what is wrong, and that the interpreter keeps
// working after each.
func TestCallErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	ws := store{"emb": f32Tensor("emb", randVals(r, 10*64, 1), 10, 64)}
	tokens := param{ir.T(ir.I32, ir.S("seq")), interp.Tokens(1)}
	ps := []param{tokens, posParam(0), seqParam(r, 1, 32), seqParam(r, 1, 32)}
	m := oneFunc(t, ws, map[string]int{"kc": 32, "vc": 32}, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value {
		x := b.Embed(p[0], "emb")
		a := b.Attention(x, p[2], p[3], p[1], "kc", "vc", 8, 4, 8)
		return []*ir.Value{b.SliceRange(a, 0, 1, 3)}
	})
	ip := newInterp(t, m, ws.get)
	kv := func(n int) []interp.Value {
		return []interp.Value{interp.F32Value(make([]float32, 32*n), n, 32), interp.F32Value(make([]float32, 32*n), n, 32)}
	}
	args := func(ids []int, pos int) []interp.Value {
		return append([]interp.Value{interp.Tokens(ids...), interp.Scalar(pos)}, kv(len(ids))...)
	}
	callErr := func(fn string, a ...interp.Value) error {
		_, err := ip.Call(fn, a...)
		return err
	}
	const in, exec = omexerr.Input, omexerr.Execution

	wantErr(t, "unknown function", callErr("nope"), in, "input.unknown_function", "@nope", "@f")
	wantErr(t, "argument count", callErr("f", interp.Tokens(1)), in, "input.bad_arguments", "takes 4 arguments")
	wantErr(t, "element type", callErr("f", append([]interp.Value{interp.F32Value([]float32{1}, 1)}, args([]int{1}, 0)[1:]...)...), in, "input.bad_arguments", "got a f32 value")
	wantErr(t, "rank", callErr("f", append([]interp.Value{interp.I32Value([]int32{1}, 1, 1)}, args([]int{1}, 0)[1:]...)...), in, "input.bad_arguments", "rank 2")
	wantErr(t, "constant dim", callErr("f", append(args([]int{1, 2, 3}, 0)[:2], interp.F32Value(make([]float32, 3*16), 3, 16), kv(3)[1])...), in, "input.bad_arguments", "dimension 1 is 16, not 32")
	wantErr(t, "seq disagrees", callErr("f", append(args([]int{1, 2, 3}, 0)[:3], kv(2)[1])...), in, "input.bad_arguments", "seq is 3")
	wantErr(t, "data length", callErr("f", append([]interp.Value{interp.I32Value([]int32{1, 2}, 3)}, args([]int{1, 2, 3}, 0)[1:]...)...), in, "input.bad_arguments", "2 elements")
	wantErr(t, "token", callErr("f", args([]int{1, 10, 2}, 0)...), in, "input.token_out_of_vocab", "id 10", "instr 0")
	wantErr(t, "context", callErr("f", args([]int{1, 2, 3}, 14)...), exec, "execution.context_full", "14..16", "0..15")
	wantErr(t, "negative position", callErr("f", args([]int{1, 2, 3}, -1)...), exec, "execution.context_full")
	wantErr(t, "gap", callErr("f", args([]int{1, 2, 3}, 1)...), exec, "execution.position_gap", "position 1")
	wantErr(t, "short seq", callErr("f", args([]int{1, 2}, 0)...), exec, "execution.bad_slice", "start=1 end=3", "length 2")

	// The failed call above wrote rows 0..1; a good call continues.
	got, err := ip.Call("f", args([]int{4, 5, 6}, 2)...)
	if err != nil {
		t.Fatalf("call after errors: %v", err)
	}
	if len(got) != 1 || got[0].TypeString() != "f32[2,64]" {
		t.Fatalf("got %d results, first %s", len(got), got[0].TypeString())
	}
	// Results belong to the caller: the next call does not change them.
	keep := append([]float32(nil), got[0].F32...)
	call(t, ip, "f", args([]int{7, 8, 9}, 0)...)
	wantBits(t, "earlier result after another call", got[0].F32, keep)

	ip.Reset()
	wantErr(t, "gap after reset", callErr("f", args([]int{1, 2, 3}, 3)...), exec, "execution.position_gap")
}

// TestNewErrors checks the problems New reports: invalid modules, missing
// or mismatched weights, absurd state.
func TestNewErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	good := f32Tensor("w", randVals(r, 32*64, 1), 32, 64)
	ws := store{"w": good}
	ps := []param{seqParam(r, 1, 64)}
	m := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.MatMul(p[0], "w")} })
	newErr := func(m *ir.Module, get func(string) (*tensor.Tensor, error)) error {
		_, err := interp.New(m, get)
		return err
	}
	const model = omexerr.Model

	wantErr(t, "nil module", newErr(nil, ws.get), model, "model.invalid_ir")
	wantErr(t, "missing weight", newErr(m, store{}.get), model, "model.missing_tensor", "w")
	wantErr(t, "no weights", newErr(m, nil), model, "model.missing_tensor")
	wantErr(t, "nil tensor", newErr(m, func(string) (*tensor.Tensor, error) { return nil, nil }), model, "model.missing_tensor")
	wantErr(t, "shape", newErr(m, store{"w": f32Tensor("w", randVals(r, 64*32, 1), 64, 32)}.get), model, "model.tensor_shape", "[64 32]")
	short := *good
	short.Data = short.Data[:100]
	wantErr(t, "data length", newErr(m, store{"w": &short}.get), model, "model.tensor_size")

	bad := m.Clone()
	bad.Funcs[0].Body[0].Refs[0] = "nothing"
	wantErr(t, "invalid module", newErr(bad, ws.get), model, "model.invalid_ir", "@nothing")

	big := ir.NewModule("big")
	if err := big.AddDim("ctx", 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := big.AddState("s", ir.T(ir.F32, ir.S("ctx"), ir.C(1<<20))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "huge state", newErr(big, nil), omexerr.Resource, "resource.state_too_large", "@s")

	// A weight the module reads as another dtype than stored is
	// converted as tensor.Convert converts it; one that cannot be is an
	// error naming it.
	conv := m.Clone()
	conv.Weights[0].Type.Elem = ir.Q8_0
	x := ps[0].val
	q8, err := tensor.Convert(good, tensor.Q8_0)
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, newInterp(t, conv, ws.get), "f", x)
	want := call(t, newInterp(t, conv, store{"w": q8}.get), "f", x)
	wantBits(t, "f32 weight declared q8_0", got, want)
	if sameBits(got, call(t, newInterp(t, m, ws.get), "f", x)) < 0 {
		t.Error("the q8_0 declaration changed nothing")
	}
	wantErr(t, "unconvertible", newErr(conv, store{"w": &short}.get), model, "model.weight_dtype", "@w")
}

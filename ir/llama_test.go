package ir

import (
	"fmt"
	"testing"
)

// llamaShape is the shape of the small Llama-like model the tests build.
type llamaShape struct {
	dim, hidden, layers, heads, kvHeads, headDim, vocab, ctx int
	qkvBias                                                  bool
	layout                                                   string
}

var testShape = llamaShape{dim: 64, hidden: 96, layers: 2, heads: 8, kvHeads: 4, headDim: 8, vocab: 100, ctx: 32, layout: RopeInterleaved}

// buildLlama builds a module with prefill and decode the way the frontend
// lowers a Llama-family model: unfused ops, the classifier on every row and
// the last row sliced off in prefill.
func buildLlama(t testing.TB, s llamaShape) *Module {
	t.Helper()
	m := NewModule("tiny-llama")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.AddDim("ctx", s.ctx))
	weight := func(name string, e Elem, dims ...int) {
		ds := make([]Dim, len(dims))
		for i, d := range dims {
			ds[i] = C(d)
		}
		_, err := m.AddWeight(name, T(e, ds...))
		must(err)
	}
	qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
	weight("token_embd.weight", F32, s.vocab, s.dim)
	for l := 0; l < s.layers; l++ {
		p := func(part string) string { return fmt.Sprintf("blk.%d.%s", l, part) }
		weight(p("attn_norm.weight"), F32, s.dim)
		weight(p("attn_q.weight"), Q8_0, qDim, s.dim)
		weight(p("attn_k.weight"), F16, kvDim, s.dim)
		weight(p("attn_v.weight"), BF16, kvDim, s.dim)
		if s.qkvBias {
			weight(p("attn_q.bias"), F32, qDim)
			weight(p("attn_k.bias"), F32, kvDim)
			weight(p("attn_v.bias"), F32, kvDim)
		}
		weight(p("attn_output.weight"), Q4_0, s.dim, qDim)
		weight(p("ffn_norm.weight"), F32, s.dim)
		weight(p("ffn_gate.weight"), F32, s.hidden, s.dim)
		weight(p("ffn_up.weight"), F32, s.hidden, s.dim)
		weight(p("ffn_down.weight"), F32, s.dim, s.hidden)
	}
	weight("output_norm.weight", F32, s.dim)
	weight("output.weight", F32, s.vocab, s.dim)
	for l := 0; l < s.layers; l++ {
		for _, kv := range []string{"k", "v"} {
			_, err := m.AddState(fmt.Sprintf("kv.%d.%s", l, kv), T(F32, S("ctx"), C(kvDim)))
			must(err)
		}
	}
	for _, fn := range []struct {
		name string
		rows Dim
	}{{"prefill", S("seq")}, {"decode", C(1)}} {
		f, err := m.AddFunc(fn.name)
		must(err)
		b := NewBuilder(m, f)
		tokens := b.Param("tokens", T(I32, fn.rows))
		pos := b.Param("pos", T(I32))
		x := b.Embed(tokens, "token_embd.weight")
		for l := 0; l < s.layers; l++ {
			p := func(part string) string { return fmt.Sprintf("blk.%d.%s", l, part) }
			bias := func(part string) []string {
				if s.qkvBias {
					return []string{p(part)}
				}
				return nil
			}
			h := b.RMSNorm(x, p("attn_norm.weight"), 1e-5)
			q := b.Name(b.MatMul(h, p("attn_q.weight"), bias("attn_q.bias")...), fmt.Sprintf("q.%d", l))
			k := b.MatMul(h, p("attn_k.weight"), bias("attn_k.bias")...)
			v := b.MatMul(h, p("attn_v.weight"), bias("attn_v.bias")...)
			q = b.Rope(q, pos, Rope{Heads: s.heads, HeadDim: s.headDim, Theta: 10000, Layout: s.layout})
			k = b.Rope(k, pos, Rope{Heads: s.kvHeads, HeadDim: s.headDim, Theta: 10000, Layout: s.layout})
			a := b.Attention(q, k, v, pos, fmt.Sprintf("kv.%d.k", l), fmt.Sprintf("kv.%d.v", l), s.heads, s.kvHeads, s.headDim)
			x = b.Add(x, b.MatMul(a, p("attn_output.weight")))
			h = b.RMSNorm(x, p("ffn_norm.weight"), 1e-5)
			g := b.Silu(b.MatMul(h, p("ffn_gate.weight")))
			u := b.MatMul(h, p("ffn_up.weight"))
			x = b.Add(x, b.MatMul(b.Mul(g, u), p("ffn_down.weight")))
		}
		x = b.RMSNorm(x, "output_norm.weight", 1e-5)
		logits := b.MatMul(x, "output.weight")
		b.Return(b.Name(b.Slice(logits, 0, -1), "logits"))
		must(b.Err())
	}
	return m
}

// roundTrip checks that m verifies, prints, parses back, verifies again
// and prints the same bytes, and returns the text.
func roundTrip(t testing.TB, m *Module) string {
	t.Helper()
	if err := Verify(m); err != nil {
		t.Fatalf("verify: %v\n%s", err, Print(m))
	}
	text := Print(m)
	m2, err := Parse(text)
	if err != nil {
		t.Fatalf("parse of printed module: %v\n%s", err, text)
	}
	if err := Verify(m2); err != nil {
		t.Fatalf("verify of parsed module: %v", err)
	}
	if again := Print(m2); again != text {
		t.Fatalf("round trip changed the text:\n--- printed\n%s\n--- reprinted\n%s", text, again)
	}
	return text
}

func TestLlamaModuleRoundTrip(t *testing.T) {
	for _, s := range []llamaShape{testShape, func() llamaShape {
		s := testShape
		s.qkvBias, s.layout, s.layers = true, RopeHalfSplit, 3
		return s
	}()} {
		m := buildLlama(t, s)
		text := roundTrip(t, m)
		f := m.Func("prefill")
		if f == nil || m.Func("decode") == nil || m.Func("nope") != nil {
			t.Fatal("Func lookup")
		}
		// embed + per layer 16 ops + norm, classifier, slice.
		if want := 1 + 16*s.layers + 3; len(f.Body) != want {
			t.Errorf("prefill has %d instructions, want %d", len(f.Body), want)
		}
		if got := f.Results[0].Type.String(); got != "f32[1,100]" {
			t.Errorf("prefill returns %s", got)
		}
		if got := f.Body[1].Results[0].Type.String(); got != "f32[seq,64]" {
			t.Errorf("rmsnorm in prefill has type %s", got)
		}
		if got := m.Func("decode").Body[1].Results[0].Type.String(); got != "f32[1,64]" {
			t.Errorf("rmsnorm in decode has type %s", got)
		}
		if testing.Verbose() && !s.qkvBias {
			t.Logf("\n%s", text)
		}
	}
}

func TestBuilderNames(t *testing.T) {
	m := buildLlama(t, testShape)
	f := m.Func("prefill")
	var names []string
	for _, p := range f.Params {
		names = append(names, p.Name)
	}
	for _, in := range f.Body[:4] {
		names = append(names, in.Results[0].Name)
	}
	if got, want := fmt.Sprint(names), "[tokens pos 0 1 q.0 3]"; got != want {
		t.Errorf("names %s, want %s", got, want)
	}
	if last := f.Results[0].Name; last != "logits" {
		t.Errorf("result named %s", last)
	}
}

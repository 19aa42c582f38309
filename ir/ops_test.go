package ir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opsPrelude declares what the op cases use: weights of several types and
// shapes, the KV states, and a function whose parameters are the operands.
const opsPrelude = `module "ops"
dim ctx = 16
weight @emb : f32[100,64]
weight @embq : q8_0[100,64]
weight @norm : f32[64]
weight @norm16 : f16[64]
weight @w : f32[32,64]
weight @wq : q4_0[64,64]
weight @wk : f32[32,64]
weight @wv : bf16[32,64]
weight @b : f32[32]
weight @b64 : f32[64]
weight @wg : f32[96,64]
weight @wu : f32[96,64]
weight @bg : f32[96]
weight @i8w : i8[32,64]
state @kc : f32[ctx,32]
state @vc : f32[ctx,32]
state @wide : f32[ctx,64]
func @f(%x: f32[seq,64], %t: i32[seq], %pos: i32[], %q: f32[seq,64], %k: f32[seq,32], %v: f32[seq,32], %one: f32[1,32], %s: f32[], %c: f32[4,6], %m: f32[seq,96]) {
`

// opCase is one instruction (or a few) and the verifier's verdict.
type opCase struct {
	body    string
	wantErr string // "" when the module must verify
}

var opCases = []opCase{
	// embed
	{`%r = embed %t, @emb : f32[seq,64]`, ""},
	{`%r = embed %t, @embq : f32[seq,64]`, ""},
	{`%r = embed %x, @emb : f32[seq,64]`, "tokens must be i32 of rank 1"},
	{`%r = embed %t, @nope : f32[seq,64]`, "@nope is not a declared weight"},
	{`%r = embed %t, @kc : f32[seq,64]`, "@kc is a state, not a weight"},
	{`%r = embed %t, @norm : f32[seq,64]`, "must have rank 2"},
	{`%r = embed %t : f32[seq,64]`, "takes @operands [table], got 0"},
	// matmul
	{`%r = matmul %x, @w : f32[seq,32]`, ""},
	{`%r = matmul %x, @w, @b : f32[seq,32]`, ""},
	{`%r = matmul %x, @wq : f32[seq,64]`, ""},
	{`%r = matmul %x, @w : f32[seq,64]`, "declared f32[seq,64] but matmul gives f32[seq,32]"},
	{`%r = matmul %m, @w : f32[seq,32]`, "must be [N,96]"},
	{`%r = matmul %x, @w, @b64 : f32[seq,32]`, "bias @b64 : f32[64] must be [32]"},
	{`%r = matmul %x, @i8w : f32[seq,32]`, "cannot read i8 weights"},
	{`%r = matmul %x, @w, @b, @b : f32[seq,32]`, "takes @operands [w] or [w bias], got 3"},
	{`%r = matmul %t, @w : f32[seq,32]`, "x must be f32 of rank 2"},
	{`%r = matmul %x, %x, @w : f32[seq,32]`, "takes 1 value operands"},
	// rmsnorm
	{`%r = rmsnorm %x, @norm {eps=1e-05} : f32[seq,64]`, ""},
	{`%r = rmsnorm %x, @norm16 {eps=0} : f32[seq,64]`, ""},
	{`%r = rmsnorm %x, @norm : f32[seq,64]`, "needs attribute eps"},
	{`%r = rmsnorm %x, @norm {eps=-1} : f32[seq,64]`, "eps=-1.0 must be finite and >= 0.0"},
	{`%r = rmsnorm %x, @norm {eps=nan} : f32[seq,64]`, "eps=nan must be finite"},
	{`%r = rmsnorm %x, @norm {eps=inf} : f32[seq,64]`, "eps=inf must be finite"},
	{`%r = rmsnorm %x, @norm {eps="small"} : f32[seq,64]`, "eps must be a float, not a string"},
	{`%r = rmsnorm %x, @norm {eps=1e-5, foo=1} : f32[seq,64]`, `takes no attribute "foo"`},
	{`%r = rmsnorm %x, @b {eps=1e-5} : f32[seq,64]`, "w @b : f32[32] must be [64]"},
	// rope
	{`%r = rope %x, %pos {heads=8, head_dim=8, theta=10000, layout="interleaved"} : f32[seq,64]`, ""},
	{`%r = rope %k, %pos {heads=4, head_dim=8, theta=500000.0, layout="half_split"} : f32[seq,32]`, ""},
	{`%r = rope %x, %pos {heads=8, head_dim=3, theta=10000, layout="interleaved"} : f32[seq,64]`, "head_dim=3 must be even"},
	{`%r = rope %x, %pos {heads=8, head_dim=8, theta=10000, layout="spiral"} : f32[seq,64]`, `layout="spiral" must be`},
	{`%r = rope %x, %pos {heads=4, head_dim=8, theta=10000, layout="interleaved"} : f32[seq,64]`, "last axis must be heads*head_dim = 32"},
	{`%r = rope %x, %s {heads=8, head_dim=8, theta=10000, layout="interleaved"} : f32[seq,64]`, "pos must be i32 of rank 0"},
	{`%r = rope %x, %pos {heads=8, head_dim=8, theta=0, layout="interleaved"} : f32[seq,64]`, "theta=0.0 must be finite and > 0.0"},
	{`%r = rope %x, %pos {heads=0, head_dim=8, theta=1, layout="interleaved"} : f32[seq,64]`, "heads=0 out of range"},
	{`%r = rope %x, %pos {heads=8, head_dim=8, theta=1} : f32[seq,64]`, "needs attribute layout"},
	// attention
	{`%r = attention %q, %k, %v, %pos, @kc, @vc {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, ""},
	{`%r = attention %q, %q, %q, %pos, @wide, @wide {heads=8, kv_heads=8, head_dim=8} : f32[seq,64]`, "kcache and vcache are the same state"},
	{`%r = attention %q, %k, %v, %pos, @kc, @vc {heads=8, kv_heads=3, head_dim=8} : f32[seq,64]`, "heads=8 must be a multiple of kv_heads=3"},
	{`%r = attention %q, %k, %v, %pos, @w, @vc {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, "kcache @w is a weight, not a state"},
	{`%r = attention %q, %one, %v, %pos, @kc, @vc {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, "must have the rows of q"},
	{`%r = attention %q, %k, %v, %pos, @kc, @wide {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, "must have the type of kcache"},
	{`%r = attention %q, %k, %v, %pos, @wide, @wide {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, "kcache @wide : f32[ctx,64] must be f32[ctx,32]"},
	{`%r = attention %q, %k, %v, @kc, @vc {heads=8, kv_heads=4, head_dim=8} : f32[seq,64]`, "takes 4 value operands"},
	{`%r = attention %x, %k, %v, %pos, @kc, @vc {heads=4, kv_heads=4, head_dim=8} : f32[seq,32]`, "q f32[seq,64]: last axis must be 32"},
	// elementwise and last-axis ops
	{`%r = softmax %x : f32[seq,64]`, ""},
	{`%r = softmax %s : f32[]`, "x must be f32 of rank >= 1"},
	{`%r = silu %x : f32[seq,64]`, ""},
	{`%r = silu %s : f32[]`, ""},
	{`%r = silu %t : i32[seq]`, "x must be f32, got i32[seq]"},
	{`%r = gelu %c : f32[4,6]`, ""},
	{`%r = add %x, %x : f32[seq,64]`, ""},
	{`%r = mul %x, %s : f32[seq,64]`, ""},
	{`%r = mul %s, %x : f32[seq,64]`, ""},
	{`%r = add %s, %s : f32[]`, ""},
	{`%r = add %x, %k : f32[seq,64]`, "must have the same shape"},
	{`%r = mul %t, %t : i32[seq]`, "a must be f32"},
	// reshape
	{`%r = reshape %x {shape=[0,8,8]} : f32[seq,8,8]`, ""},
	{`%r = reshape %x {shape=[-1,64]} : f32[seq,64]`, ""},
	{`%r = reshape %c {shape=[-1]} : f32[24]`, ""},
	{`%r = reshape %c {shape=[3,-1,2]} : f32[3,4,2]`, ""},
	{`%r = reshape %t {shape=[0,1]} : i32[seq,1]`, ""},
	{`%r = reshape %x {shape=[0,32]} : f32[seq,32]`, "has a different number of elements"},
	{`%r = reshape %c {shape=[-1,-1]} : f32[24]`, "shape[1]=-1"},
	{`%r = reshape %x {shape=[-1]} : f32[seq]`, "cannot be inferred"},
	{`%r = reshape %c {shape=[5,-1]} : f32[5,5]`, "cannot be inferred"},
	{`%r = reshape %s {shape=[0]} : f32[]`, "shape[0]=0"},
	// slice
	{`%r = slice %x {axis=0, start=-1} : f32[1,64]`, ""},
	{`%r = slice %x {axis=1, start=8, end=16} : f32[seq,8]`, ""},
	{`%r = slice %x {axis=0, start=0} : f32[seq,64]`, ""},
	{`%r = slice %x {axis=0, start=2, end=5} : f32[3,64]`, ""},
	{`%r = slice %x {axis=0, start=-3, end=-1} : f32[2,64]`, ""},
	{`%r = slice %x {axis=1, start=-8} : f32[seq,8]`, ""},
	{`%r = slice %c {axis=1, start=-6, end=-6} : f32[4,0]`, ""},
	{`%r = slice %c {axis=0, start=2, end=9} : f32[7,6]`, "outside axis 0"},
	{`%r = slice %c {axis=0, start=3, end=2} : f32[0,6]`, "outside axis 0"},
	{`%r = slice %x {axis=0, start=1} : f32[seq,64]`, "would not be a constant"},
	{`%r = slice %x {axis=0, start=-1, end=4} : f32[5,64]`, "would not be a constant"},
	{`%r = slice %x {axis=2, start=0} : f32[seq,64]`, "axis=2 out of range 0..1"},
	{`%r = slice %x {axis=0} : f32[seq,64]`, "needs attribute start"},
	// transpose, argmax, const
	{`%r = transpose %x {perm=[1,0]} : f32[64,seq]`, ""},
	{`%r = transpose %c {perm=[0,0]} : f32[4,4]`, "must list each of the 2 axes"},
	{`%r = transpose %c {perm=[0]} : f32[4]`, "must list each of the 2 axes"},
	{`%r = argmax %x : i32[seq]`, ""},
	{`%r = argmax %t : i32[]`, "x must be f32"},
	{`%r = const {value=0.5} : f32[]`, ""},
	{`%r = const {value=-0.0} : f32[]`, ""},
	{`%r = const : f32[]`, "needs attribute value"},
	{`%r = const {value=1} : f32[1]`, "declared f32[1] but const gives f32[]"},
	// fused: rmsnorm_matmul
	{`%r = rmsnorm_matmul %x, @norm, @w {eps=1e-05} : f32[seq,32]`, ""},
	{`%r = rmsnorm_matmul %x, @norm, @w, @b {eps=1e-05} : f32[seq,32]`, ""},
	{`%r = rmsnorm_matmul %x, @b, @w {eps=1e-05} : f32[seq,32]`, "norm @b : f32[32] must be [64]"},
	{`%r = rmsnorm_matmul %x, @norm, @w : f32[seq,32]`, "needs attribute eps"},
	// fused: matmul_qkv in its four forms
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv : f32[seq,64], f32[seq,32], f32[seq,32]`, ""},
	{`%q1, %k1, %v1 = matmul_qkv %x, @norm, @wq, @wk, @wv {eps=1e-05} : f32[seq,64], f32[seq,32], f32[seq,32]`, ""},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv, @b64, @b, @b : f32[seq,64], f32[seq,32], f32[seq,32]`, ""},
	{`%q1, %k1, %v1 = matmul_qkv %x, %pos, @norm, @wq, @wk, @wv, @b64, @b, @b {eps=1e-05, head_dim=8, heads=8, kv_heads=4, layout="half_split", theta=10000.0} : f32[seq,64], f32[seq,32], f32[seq,32]`, ""},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv : f32[seq,64], f32[seq,32]`, "3 results but 2 types"},
	{`%q1, %k1 = matmul_qkv %x, @wq, @wk, @wv : f32[seq,64], f32[seq,32]`, "matmul_qkv has 3 results, not 2"},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv {heads=8} : f32[seq,64], f32[seq,32], f32[seq,32]`, "attribute heads without theta"},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv {theta=1.0} : f32[seq,64], f32[seq,32], f32[seq,32]`, "takes 2 value operands [x pos]"},
	{`%q1, %k1, %v1 = matmul_qkv %x, %pos, @wq, @wk, @wv {head_dim=8, heads=8, layout="interleaved", theta=10000.0} : f32[seq,64], f32[seq,32], f32[seq,32]`, "needs int attribute kv_heads"},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv, @b64, @b : f32[seq,64], f32[seq,32], f32[seq,32]`, "takes @operands [wq wk wv] or [wq wk wv bq bk bv], got 5"},
	{`%q1, %k1, %v1 = matmul_qkv %x, @wq, @wk, @wv, @b, @b, @b : f32[seq,64], f32[seq,32], f32[seq,32]`, "bq @b : f32[32] must be [64]"},
	// fused: matmul_gate_up
	{`%r = matmul_gate_up %x, @wg, @wu : f32[seq,96]`, ""},
	{`%r = matmul_gate_up %x, @norm, @wg, @wu {eps=1e-05} : f32[seq,96]`, ""},
	{`%r = matmul_gate_up %x, @norm, @wg, @wu, @bg, @bg {eps=1e-05} : f32[seq,96]`, ""},
	{`%r = matmul_gate_up %x, @wg, @w : f32[seq,96]`, "gate f32[seq,96] and up f32[seq,32] projections differ"},
	{`%r = matmul_gate_up %x, @norm, @wg, @wu : f32[seq,96]`, "takes @operands [wg wu] or [wg wu bg bu], got 3"},
	// fused: matmul_rope
	{`%r = matmul_rope %x, %pos, @wq {head_dim=8, heads=8, layout="interleaved", theta=10000.0} : f32[seq,64]`, ""},
	{`%r = matmul_rope %x, %pos, @norm, @wk, @b {eps=1e-05, head_dim=8, heads=4, layout="interleaved", theta=10000.0} : f32[seq,32]`, ""},
	{`%r = matmul_rope %x, %pos, @wq {head_dim=8, heads=4, layout="interleaved", theta=10000.0} : f32[seq,64]`, "x·w f32[seq,64]: last axis must be heads*head_dim = 32"},
	{`%r = matmul_rope %x, %pos, @wq : f32[seq,64]`, "needs attribute heads"},
	// fused: matmul_add
	{`%r = matmul_add %x, %k, @w : f32[seq,32]`, ""},
	{`%r = matmul_add %x, %k, @w, @b : f32[seq,32]`, ""},
	{`%r = matmul_add %x, %x, @w : f32[seq,32]`, "residual f32[seq,64] must have the type of x·w f32[seq,32]"},
	// several instructions: results feed later ones
	{"%h = rmsnorm %x, @norm {eps=1e-05} : f32[seq,64]\n  %r = matmul %h, @w : f32[seq,32]\n  %s2 = silu %r : f32[seq,32]", ""},
	{"%h = rmsnorm %x, @norm {eps=1e-05} : f32[seq,64]\n  %r = matmul %h, @w : f32[seq,64]", "instr 1 (%r = matmul %h, @w : f32[seq,64])"},
}

// opModule returns the module text of an op case.
func opModule(body string) string { return opsPrelude + "  " + body + "\n  return\n}\n" }

func TestOpCases(t *testing.T) {
	covered := map[Op]bool{}
	for _, c := range opCases {
		src := opModule(c.body)
		m, err := Parse(src)
		if err != nil {
			// A few cases are errors the parser already catches.
			if c.wantErr != "" && strings.Contains(err.Error(), c.wantErr) {
				continue
			}
			t.Errorf("%s: parse: %v", c.body, err)
			continue
		}
		err = Verify(m)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
				continue
			}
			covered[m.Funcs[0].Body[0].Op] = true
			roundTrip(t, m)
			continue
		}
		if err == nil {
			t.Errorf("%s: verified, want error containing %q", c.body, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "func @f: instr ") {
			t.Errorf("%s:\n  error %v\n  want it to name the function, the instruction and %q", c.body, err, c.wantErr)
		}
	}
	for _, op := range Ops() {
		if !covered[op] {
			t.Errorf("no valid case for op %s", op)
		}
	}
}

// TestBuilderMatchesParser builds every valid single-instruction case with
// Builder.Emit and checks it prints the case's text: the builder and the
// parser agree on operands, attributes and result types.
func TestBuilderMatchesParser(t *testing.T) {
	for _, c := range opCases {
		if c.wantErr != "" || strings.Contains(c.body, "\n") {
			continue
		}
		m, err := Parse(opModule(c.body))
		if err != nil {
			t.Fatal(err)
		}
		f := m.Funcs[0]
		in := f.Body[0]
		f.Body = nil
		b := NewBuilder(m, f)
		rs := b.Emit(in.Op, in.Args, in.Refs, in.Attrs)
		if err := b.Err(); err != nil {
			t.Errorf("%s: builder: %v", c.body, err)
			continue
		}
		for i, r := range rs {
			b.Name(r, in.Results[i].Name)
		}
		if got := f.Body[0].String(); got != in.String() {
			t.Errorf("builder printed %s\nparser printed %s", got, in)
		}
	}
}

func TestBuilderErrorsAreSticky(t *testing.T) {
	m, err := Parse(opModule(`%r = silu %x : f32[seq,64]`))
	if err != nil {
		t.Fatal(err)
	}
	f := m.Funcs[0]
	b := NewBuilder(m, f)
	x := f.Params[0]
	if b.MatMul(x, "w") == nil || b.Err() != nil {
		t.Fatal("valid matmul failed", b.Err())
	}
	bad := b.MatMul(x, "b64") // [64] is no matrix
	if bad != nil || b.Err() == nil || !strings.Contains(b.Err().Error(), "w @b64 : f32[64] must be [N,64]") {
		t.Fatalf("bad matmul: value %v, error %v", bad, b.Err())
	}
	first := b.Err()
	if b.Silu(bad) != nil || b.Err() != first {
		t.Error("a call after an error must do nothing and keep the first error")
	}
	b.Return(x)
	if len(f.Results) != 0 {
		t.Error("Return after an error changed the function")
	}
	b2 := NewBuilder(m, f)
	if b2.Silu(nil) != nil || b2.Err() == nil || !strings.Contains(b2.Err().Error(), "operand 0 (x) is missing") {
		t.Errorf("nil operand: %v", b2.Err())
	}
	var oe interface{ Unwrap() error }
	if !errors.As(b.Err(), &oe) {
		t.Errorf("builder error %T is not an omexerr.Error", b.Err())
	}
}

func TestOpTable(t *testing.T) {
	for _, op := range Ops() {
		info := op.Info()
		if info.Name == "" || info.Summary == "" || info.roles == nil || info.rule == nil {
			t.Errorf("op %d has an incomplete table entry", op)
		}
		if got, ok := LookupOp(info.Name); !ok || got != op {
			t.Errorf("LookupOp(%q) = %v, %v", info.Name, got, ok)
		}
	}
	if _, ok := LookupOp("nope"); ok || OpInvalid.Info() != nil || Op(200).Info() != nil {
		t.Error("unknown ops must have no entry")
	}
	if !HasSideEffects(OpAttention) || HasSideEffects(OpMatMul) || HasSideEffects(Op(200)) {
		t.Error("only attention writes state")
	}
}

// TestDocsListEveryOp keeps docs/IR.md complete: every op has a section.
func TestDocsListEveryOp(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "IR.md"))
	if err != nil {
		t.Fatalf("docs/IR.md: %v", err)
	}
	for _, op := range Ops() {
		if !strings.Contains(string(doc), "### "+op.String()+"\n") {
			t.Errorf("docs/IR.md has no section \"### %s\"", op)
		}
	}
}

package goasm_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
)

// tinyModule is a one-layer decoder in IR text: every op the schedule
// handles appears in @decode (the real models' schedules are run in
// internal/testmodels).
const tinyModule = `module "tiny"

dim ctx = 16

weight @emb : f32[40,16]
weight @norm : f32[16]
weight @wq : f32[16,16]
weight @wk : f32[8,16]
weight @wv : f32[8,16]
weight @wo : q8_0[16,32]
weight @bias : f32[16]

state @kc : f32[ctx,8]
state @vc : f32[ctx,8]

func @decode(%token: i32[1], %pos: i32[]) -> f32[1,40] {
  %x = embed %token, @emb : f32[1,16]
  %h = rmsnorm %x, @norm {eps=1e-05} : f32[1,16]
  %q = matmul %h, @wq, @bias : f32[1,16]
  %k = matmul %h, @wk : f32[1,8]
  %v = matmul %h, @wv : f32[1,8]
  %qr = rope %q, %pos {head_dim=4, heads=4, layout="half_split", theta=10000.0} : f32[1,16]
  %kr = rope %k, %pos {head_dim=4, heads=2, layout="half_split", theta=10000.0} : f32[1,8]
  %a = attention %qr, %kr, %v, %pos, @kc, @vc {head_dim=4, heads=4, kv_heads=2} : f32[1,16]
  %s = silu %a : f32[1,16]
  %m = mul %s, %x : f32[1,16]
  %c = const {value=0.5} : f32[]
  %ms = mul %m, %c : f32[1,16]
  %r = add %ms, %x : f32[1,16]
  %l = matmul %r, @emb : f32[1,40]
  %p = softmax %l : f32[1,40]
  %y = slice %p {axis=0, start=-1} : f32[1,40]
  return %y
}
`

// plan runs the memory planner (and, for a target, the layout pass) on src.
func plan(t *testing.T, src, target string) *ir.Module {
	t.Helper()
	m, err := ir.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var pl []passes.Pass
	for _, name := range []string{"layout", "memplan"} {
		p, ok := passes.Lookup(name)
		if !ok {
			t.Fatalf("no %s pass", name)
		}
		pl = append(pl, p)
	}
	mg, err := passes.New(pl, passes.Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mg.Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return res.Module
}

func TestGenerateModelFiles(t *testing.T) {
	m := plan(t, tinyModule, "amd64-avx2")
	a, err := goasm.GenerateModel(m, goasm.AVX2, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	b, err := goasm.GenerateModel(m, goasm.AVX2, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	var model string
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between two runs", a[i].Name)
		}
		if a[i].Name == "model_gen.go" {
			model = string(a[i].Data)
		}
	}
	for _, want := range []string{
		"func New(b *exe.Bundle) (generate.Model, error)",
		"m.pool.matvec(&m.w2, a[", // @wq through its kernel
		"matvec_avx2_q8_0_16x32",  // @wo is declared but unused: no kernel needed...
		"kernels.RopeHalfSplit(",
		"storeKeysT(m.s0, ", // AVX2 has attention kernels over transposed keys
		"attention_avx2_",
		"scalarMul(",
		"softmax_avx2(",
		"sliceCopy(",
	} {
		if want == "matvec_avx2_q8_0_16x32" {
			if strings.Contains(model, want) {
				t.Error("a kernel was generated for a weight @decode never reads")
			}
			continue
		}
		if !strings.Contains(model, want) {
			t.Errorf("model_gen.go lacks %q", want)
		}
	}
	// The generic kernel set reads the row-major weights of an
	// unannotated module through runtime/kernels.
	g, err := goasm.GenerateModel(plan(t, tinyModule, ""), goasm.Generic, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range g {
		if f.Name == "model_gen.go" && !strings.Contains(string(f.Data), "*kernels.Matrix") {
			t.Error("generic schedule does not use runtime/kernels matrices")
		}
		if f.Name == "model_gen.go" && !strings.Contains(string(f.Data), "kernels.Softmax(") {
			t.Error("generic schedule does not use runtime/kernels' Softmax")
		}
		if strings.HasPrefix(f.Name, "exp_") {
			t.Errorf("generic schedule has exp kernel file %s", f.Name)
		}
	}
}

func TestGenerateModelRefuses(t *testing.T) {
	noPlan, err := ir.Parse(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	transposed := strings.Replace(tinyModule, "%y = slice %p {axis=0, start=-1} : f32[1,40]", "%y = transpose %p {perm=[0,1]} : f32[1,40]", 1)
	cases := map[string]struct {
		m   *ir.Module
		isa goasm.ISA
	}{
		"no plan":      {noPlan, goasm.AVX2},
		"transpose":    {plan(t, transposed, ""), goasm.AVX2},
		"other layout": {plan(t, tinyModule, "amd64-avx512"), goasm.AVX2},
		"unknown isa":  {plan(t, tinyModule, ""), goasm.ISA("mmx")},
		"no decode":    {plan(t, strings.Replace(tinyModule, "@decode", "@step", 1), ""), goasm.SSE},
	}
	for name, c := range cases {
		_, err := goasm.GenerateModel(c.m, c.isa, "tiny")
		var oe *omexerr.Error
		if !errors.As(err, &oe) {
			t.Errorf("%s: %v, want an omexerr error", name, err)
		}
	}
}

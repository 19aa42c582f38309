package ir

import (
	"strconv"
	"strings"
	"testing"
)

func TestCloneIsDeep(t *testing.T) {
	m := buildLlama(t, testShape)
	before := Print(m)
	c := m.Clone()
	if Print(c) != before {
		t.Fatal("clone prints differently")
	}
	if err := Verify(c); err != nil {
		t.Fatal(err)
	}
	// Mutate everything reachable from the clone; the original must not change.
	c.Name = "changed"
	c.Dims[0].Value = 99
	c.Weights[0].Type.Shape[0] = C(7)
	c.States[0].Type.Shape[1] = C(7)
	f := c.Funcs[0]
	f.Params[0].Name = "renamed"
	f.Body[1].Attrs["eps"] = FloatAttr(0.5)
	f.Body[1].Refs[0] = "other"
	f.Body[2].Results[0].Type.Shape[0] = C(3)
	f.Body = f.Body[:3]
	for _, in := range c.Funcs[1].Body {
		if in.Op == OpSlice {
			in.Attrs["start"] = IntAttr(-2)
		}
	}
	if Print(m) != before {
		t.Fatal("mutating the clone changed the original")
	}
	// Values of the clone point at the clone's instructions.
	for _, in := range m.Clone().Funcs[0].Body {
		for _, r := range in.Results {
			if r.Def != in {
				t.Fatal("cloned result does not point at its cloned instruction")
			}
		}
	}
}

func TestDefUseHelpers(t *testing.T) {
	m := buildLlama(t, testShape)
	f := m.Func("prefill")
	h := f.Body[1].Results[0] // rmsnorm feeding q, k, v
	uses := f.Uses()
	if n := len(uses[h]); n != 3 {
		t.Fatalf("rmsnorm result has %d uses, want 3", n)
	}
	counts := f.UseCounts()
	if counts[f.Results[0]] != 1 || counts[f.Params[1]] != 3*testShape.layers {
		t.Errorf("use counts: logits %d, pos %d", counts[f.Results[0]], counts[f.Params[1]])
	}

	// Replace the rmsnorm by a new one with the same operands: all three
	// matmuls must follow, and the old instruction becomes removable.
	old := f.Body[1]
	in, err := f.NewInstr(m, OpRMSNorm, old.Args, old.Refs, Attrs{"eps": FloatAttr(1e-6)}, "h")
	if err != nil {
		t.Fatal(err)
	}
	if idx := f.InsertAfter(old, in); idx != 2 {
		t.Errorf("InsertAfter put it at %d", idx)
	}
	if n := f.ReplaceAllUses(h, in.Results[0]); n != 3 {
		t.Errorf("replaced %d uses", n)
	}
	if !f.Remove(old) || f.Remove(old) {
		t.Error("Remove")
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(Print(m), "%h = rmsnorm %0, @blk.0.attn_norm.weight {eps=1e-06} : f32[seq,64]\n  %q.0 = matmul %h,") {
		t.Errorf("rewrite not visible:\n%s", f)
	}

	// InsertBefore with a fresh name that collides gets a suffix.
	c, err := f.NewInstr(m, OpConst, nil, nil, Attrs{"value": FloatAttr(2)}, "h")
	if err != nil || c.Results[0].Name != "h.1" {
		t.Fatalf("NewInstr: %v, %v", c, err)
	}
	if idx := f.InsertBefore(f.Body[0], c); idx != 0 || f.Index(c) != 0 {
		t.Error("InsertBefore")
	}
	if _, err := f.NewInstr(m, OpMatMul, []*Value{c.Results[0]}, []string{"output.weight"}, nil); err == nil ||
		!strings.Contains(err.Error(), "func @prefill: matmul: x must be f32 of rank 2") {
		t.Errorf("NewInstr with a bad operand: %v", err)
	}
	if f.FreshName("q.0") != "q.0.1" || f.FreshName("") != "1" || f.FreshName("fresh") != "fresh" {
		t.Errorf("FreshName: %s %s %s", f.FreshName("q.0"), f.FreshName(""), f.FreshName("fresh"))
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if f.Index(&Instr{}) != -1 {
		t.Error("Index of a foreign instruction")
	}
}

func TestRenumber(t *testing.T) {
	m := buildLlama(t, testShape)
	f := m.Func("decode")
	f.Renumber()
	for i, in := range f.Body {
		if got := in.Results[0].Name; got != strconv.Itoa(i) {
			t.Fatalf("instr %d result named %s", i, got)
		}
	}
	roundTrip(t, m)
	// Parameters named like numbers keep their names; results skip them.
	g := &Func{Name: "g"}
	b := NewBuilder(m, g)
	p := b.Param("0", T(F32, C(2)))
	b.Silu(b.Silu(p))
	g.Renumber()
	if g.Body[0].Results[0].Name != "1" || g.Body[1].Results[0].Name != "2" {
		t.Errorf("renumber around a parameter:\n%s", g)
	}
}

package ir

import (
	"fmt"
	"strings"
	"testing"
)

func TestSizes(t *testing.T) {
	m := buildLlama(t, testShape)
	f := m.Func("prefill")
	s, err := f.BindParams(m, [][]int{{5}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if s["seq"] != 5 || s["ctx"] != testShape.ctx || len(s) != 2 {
		t.Errorf("bindings %v", s)
	}
	for _, c := range []struct {
		typ   Type
		shape string
		bytes int64
	}{
		{T(F32, S("seq"), C(64)), "[5 64]", 5 * 64 * 4},
		{T(I32), "[]", 4},
		{T(F16, C(3), C(2)), "[3 2]", 12},
		{T(Q8_0, S("ctx"), C(64)), "[32 64]", 32*64 + 4*32*64/32},
		{T(Q4_0, C(2), C(32)), "[2 32]", 32 + 4*2},
		{T(Bool, C(0)), "[0]", 0},
	} {
		shape, err := c.typ.ShapeIn(s)
		if err != nil || fmt.Sprint(shape) != c.shape {
			t.Errorf("%s: shape %v, %v", c.typ, shape, err)
		}
		if b, err := c.typ.Bytes(s); err != nil || b != c.bytes {
			t.Errorf("%s: %d bytes (%v), want %d", c.typ, b, err, c.bytes)
		}
	}
	if _, err := T(F32, S("batch")).ShapeIn(s); err == nil {
		t.Error("unbound symbol")
	}
	if _, err := T(Q8_0, C(3)).Bytes(s); err == nil {
		t.Error("partial quantized block")
	}
	if _, err := T(F32, C(MaxDim), C(MaxDim), C(MaxDim)).Elements(s); err == nil {
		t.Error("overflow")
	}
	for _, bad := range [][][]int{{{5}}, {{5, 1}, {}}, {{5}, {1}}, {{-1}, {}}} {
		if _, err := f.BindParams(m, bad); err == nil {
			t.Errorf("BindParams(%v) succeeded", bad)
		}
	}
	d := m.Func("decode")
	if _, err := d.BindParams(m, [][]int{{2}, {}}); err == nil || !strings.Contains(err.Error(), "dimension 0 must be 1") {
		t.Errorf("decode with 2 tokens: %v", err)
	}
	// A symbol used twice must get one size.
	g := &Func{Name: "g"}
	b := NewBuilder(m, g)
	b.Param("a", T(F32, S("seq")))
	b.Param("b", T(F32, S("seq"), S("ctx")))
	if _, err := g.BindParams(m, [][]int{{3}, {4, 32}}); err == nil {
		t.Error("seq bound to 3 and 4")
	}
	if _, err := g.BindParams(m, [][]int{{3}, {3, 31}}); err == nil {
		t.Error("ctx rebound")
	}
	if _, err := g.BindParams(m, [][]int{{3}, {3, 32}}); err != nil {
		t.Error(err)
	}
}

func TestSameComputation(t *testing.T) {
	m := buildLlama(t, testShape)
	f := m.Func("prefill")
	q, k := f.Body[2], f.Body[3] // matmuls of one input by different weights
	if q.SameComputation(k) || !q.SameComputation(q) {
		t.Error("matmuls")
	}
	c := m.Clone().Func("prefill").Body[2]
	c.Args = q.Args
	if !q.SameComputation(c) {
		t.Error("same op, operands, refs and attrs")
	}
	c.Attrs = Attrs{"eps": FloatAttr(1)}
	if q.SameComputation(c) {
		t.Error("different attrs")
	}
}

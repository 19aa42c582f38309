package ir

import (
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// TestVerifyModuleErrors breaks a valid module in ways only code (not the
// parser) can, one at a time, and checks what Verify says.
func TestVerifyModuleErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(m *Module)
		want  string
	}{
		{"dim bound twice", func(m *Module) { m.Dims = append(m.Dims, DimBinding{"ctx", 4}) }, "dim ctx bound twice"},
		{"dim zero", func(m *Module) { m.Dims[0].Value = 0 }, "dim ctx = 0: out of range"},
		{"dim name", func(m *Module) { m.Dims[0].Name = "1x" }, `"1x" is not a symbol name`},
		{"weight twice", func(m *Module) { m.Weights = append(m.Weights, &Weight{Name: "output.weight", Type: T(F32, C(1))}) },
			"weight @output.weight: name already declared as a weight"},
		{"state named like a weight", func(m *Module) { m.States[0].Name = "output.weight" },
			"state @output.weight: name already declared as a weight"},
		{"q8_0 row", func(m *Module) { m.Weights[0].Type = T(Q8_0, C(100), C(48)) }, "q8_0 rows must be a multiple of 32"},
		{"unbound symbol", func(m *Module) { m.Weights[0].Type = T(F32, S("vocab"), C(64)) },
			"dimension symbol vocab is not bound"},
		{"zero-size weight", func(m *Module) { m.Weights[1].Type = T(F32, C(0)) }, "dimensions must be at least 1"},
		{"nil weight", func(m *Module) { m.Weights[3] = nil }, "weight 3 is nil"},
		{"function twice", func(m *Module) { m.Funcs[1].Name = "prefill" }, "function @prefill declared twice"},
		{"unknown op", func(m *Module) { m.Funcs[0].Body[2].Op = Op(200) }, "func @prefill: instr 2 (%q.0 = op(200)"},
		{"nil instruction", func(m *Module) { m.Funcs[0].Body[5] = nil }, "func @prefill: instr 5 is nil"},
		{"use before definition", func(m *Module) {
			f := m.Funcs[0]
			f.Body[1], f.Body[2] = f.Body[2], f.Body[1]
		}, "instr 1 (%q.0 = matmul %1, @blk.0.attn_q.weight : f32[seq,64]): operand %1 is not defined before this instruction"},
		{"value of another function", func(m *Module) { m.Funcs[1].Body[1].Args[0] = m.Funcs[0].Body[0].Results[0] },
			"func @decode: instr 1 (%1 = rmsnorm %0, @blk.0.attn_norm.weight {eps=1e-05} : f32[1,64]): operand %0 is not defined"},
		{"two values with one name", func(m *Module) { m.Funcs[0].Body[3].Results[0].Name = "q.0" }, "result 0: two values named %q.0"},
		{"value defined twice", func(m *Module) {
			f := m.Funcs[0]
			f.Body = append(f.Body[:4], append([]*Instr{f.Body[3]}, f.Body[4:]...)...)
		}, "instr 4 (%3 = matmul %1, @blk.0.attn_k.weight : f32[seq,32]): result 0: %3 defined twice"},
		{"empty value name", func(m *Module) { m.Funcs[0].Body[0].Results[0].Name = "" }, "a value with an empty name"},
		{"result Def", func(m *Module) { m.Funcs[0].Body[0].Results[0].Def = nil }, "does not point back to its instruction"},
		{"param Def", func(m *Module) { m.Funcs[0].Params[0].Def = m.Funcs[0].Body[0] }, "parameter %tokens has a defining instruction"},
		{"param type", func(m *Module) { m.Funcs[0].Params[0].Type = T(Elem(77), C(1)) }, "parameter 0: %tokens : elem(77)[1]: invalid element type"},
		{"nil operand", func(m *Module) { m.Funcs[0].Body[1].Args[0] = nil }, "instr 1 (%1 = rmsnorm %<nil>"},
		{"wrong result type", func(m *Module) { m.Funcs[0].Body[0].Results[0].Type = T(F32, S("seq"), C(65)) },
			"result %0 is declared f32[seq,65] but embed gives f32[seq,64]"},
		{"weight changed under an op", func(m *Module) { m.Weight("blk.0.attn_q.weight").Type = T(F32, C(64), C(32)) },
			"instr 2 (%q.0 = matmul %1, @blk.0.attn_q.weight : f32[seq,64]): w @blk.0.attn_q.weight : f32[64,32] must be [N,64]"},
		{"return undefined", func(m *Module) { m.Funcs[0].Results[0] = &Value{Name: "ghost", Type: T(F32)} },
			"func @prefill: return value %ghost is not defined in the function"},
		{"nil return", func(m *Module) { m.Funcs[0].Results[0] = nil }, "return value 0 is nil"},
	} {
		m := buildLlama(t, testShape)
		c.spoil(m)
		err := Verify(m)
		if err == nil {
			t.Errorf("%s: verified", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n  got  %v\n  want ...%s...", c.name, err, c.want)
		}
		if omexerr.CategoryOf(err) != omexerr.Model {
			t.Errorf("%s: %v is not a ModelError", c.name, err)
		}
		// Printing a broken module must not panic (dumps show it).
		_ = Print(m)
	}
	if Verify(nil) == nil || VerifyFunc(nil, nil) == nil {
		t.Error("nil module or function verified")
	}
}

func TestModuleAdders(t *testing.T) {
	m := NewModule("m")
	if err := m.AddDim("ctx", 8); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		m.AddDim("ctx", 8), m.AddDim("2", 8), m.AddDim("n", 0),
		func() error { _, err := m.AddWeight("", T(F32, C(1))); return err }(),
		func() error { _, err := m.AddWeight("w", T(Q4_0, C(16))); return err }(),
		func() error { _, err := m.AddWeight("w", T(F32, S("seq"))); return err }(),
		func() error { _, err := m.AddState("s", T(F32, S("ctx"), C(-1))); return err }(),
	} {
		if err == nil {
			t.Error("a bad declaration was accepted")
		}
	}
	if _, err := m.AddWeight("w", T(Q4_0, S("ctx"), C(64))); err != nil {
		t.Error(err)
	}
	if _, err := m.AddState("w", T(F32, S("ctx"))); err == nil {
		t.Error("a state took a weight's name")
	}
	if _, err := m.AddFunc("f"); err != nil {
		t.Error(err)
	}
	if _, err := m.AddFunc("f"); err == nil {
		t.Error("function declared twice")
	}
	if n, ok := m.DimValue("ctx"); !ok || n != 8 {
		t.Error("DimValue")
	}
	if m.Weight("w") == nil || m.State("w") != nil || m.Weight("x") != nil {
		t.Error("lookups")
	}
	if err := Verify(m); err != nil {
		t.Error(err)
	}
}

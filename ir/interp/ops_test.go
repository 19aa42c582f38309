package interp_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// param is one parameter of a test function: its IR type and the value
// passed for it.
type param struct {
	typ ir.Type
	val interp.Value
}

// oneFunc builds a module declaring the weights of ws (with their stored
// types), ctx = 16 and the states in states (f32[ctx, width]), with one
// function @f of params whose body emit writes; it returns the module.
func oneFunc(t *testing.T, ws store, states map[string]int, params []param, emit func(b *ir.Builder, ps []*ir.Value) []*ir.Value) *ir.Module {
	t.Helper()
	m := ir.NewModule("ops")
	if err := m.AddDim("ctx", 16); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(ws))
	for n := range ws {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, err := m.AddWeight(n, tensorType(ws[n])); err != nil {
			t.Fatal(err)
		}
	}
	snames := make([]string, 0, len(states))
	for n := range states {
		snames = append(snames, n)
	}
	slices.Sort(snames)
	for _, n := range snames {
		if _, err := m.AddState(n, ir.T(ir.F32, ir.S("ctx"), ir.C(states[n]))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := m.AddFunc("f")
	if err != nil {
		t.Fatal(err)
	}
	b := ir.NewBuilder(m, f)
	var ps []*ir.Value
	for _, p := range params {
		ps = append(ps, b.Param("p", p.typ))
	}
	b.Return(emit(b, ps)...)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("%v\n%s", err, ir.Print(m))
	}
	return m
}

// run builds the interpreter of m on ws and calls @f with the params'
// values.
func run(t *testing.T, m *ir.Module, ws store, params []param) []interp.Value {
	t.Helper()
	ip := newInterp(t, m, ws.get)
	args := make([]interp.Value, len(params))
	for i, p := range params {
		args[i] = p.val
	}
	out, err := ip.Call("f", args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, ir.Print(m))
	}
	return out
}

// f32Param is an f32 parameter of constant shape with random values.
func f32Param(r *rand.Rand, shape ...int) param {
	n := 1
	dims := make([]ir.Dim, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = ir.C(d)
	}
	return param{ir.T(ir.F32, dims...), interp.F32Value(randVals(r, n, 1), shape...)}
}

// seqParam is an f32[seq, d] parameter holding rows random rows.
func seqParam(r *rand.Rand, rows, d int) param {
	return param{ir.T(ir.F32, ir.S("seq"), ir.C(d)), interp.F32Value(randVals(r, rows*d, 1), rows, d)}
}

var posParam = func(pos int) param { return param{ir.T(ir.I32), interp.Scalar(pos)} }

// mustMatrix wraps a test weight as the kernels read it.
func mustMatrix(t *testing.T, w *tensor.Tensor) *kernels.Matrix {
	t.Helper()
	m, err := kernels.NewMatrix(w, w.Name, w.Shape[0], w.Shape[1])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustVector(t *testing.T, w *tensor.Tensor) []float32 {
	t.Helper()
	v, err := kernels.Vector(w, w.Name, w.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEmbed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	ws := store{"e32": f32Tensor("e32", randVals(r, 10*64, 1), 10, 64), "eq8": q8Tensor("eq8", randVals(r, 10*64, 1), 10, 64)}
	ids := []int{3, 0, 9, 3}
	for _, name := range []string{"e32", "eq8"} {
		ps := []param{{ir.T(ir.I32, ir.S("seq")), interp.Tokens(ids...)}}
		m := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.Embed(p[0], name)} })
		got := run(t, m, ws, ps)[0]
		if !slices.Equal(got.Shape, []int{4, 64}) {
			t.Fatalf("%s: shape %v", name, got.Shape)
		}
		tab := mustMatrix(t, ws[name])
		want := make([]float32, 4*64)
		for i, id := range ids {
			tab.Row(id, want[i*64:(i+1)*64])
		}
		wantBits(t, name, got.F32, want)
	}
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	ws := store{
		"wb":   bf16Tensor("wb", randVals(r, 32*64, 0.2), 32, 64),
		"w4":   q4Tensor("w4", randVals(r, 32*64, 0.2), 32, 64),
		"bias": f32Tensor("bias", randVals(r, 32, 0.1), 32),
	}
	x := seqParam(r, 5, 64)
	for _, c := range []struct {
		w    string
		bias []string
	}{{"wb", []string{"bias"}}, {"w4", nil}} {
		ps := []param{x}
		m := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.MatMul(p[0], c.w, c.bias...)} })
		got := run(t, m, ws, ps)[0]
		w := mustMatrix(t, ws[c.w])
		want := make([]float32, 5*32)
		for i := range 5 {
			w.MatVec(want[i*32:(i+1)*32], x.val.F32[i*64:(i+1)*64])
			if c.bias != nil {
				kernels.Add(want[i*32:(i+1)*32], mustVector(t, ws["bias"]))
			}
		}
		wantBits(t, c.w, got.F32, want)
	}
}

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	ws := store{"n": f32Tensor("n", randVals(r, 16, 1), 16)}
	x := f32Param(r, 3, 4, 16)
	ps := []param{x}
	m := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.RMSNorm(p[0], "n", 1e-6)} })
	got := run(t, m, ws, ps)[0]
	want := make([]float32, 3*4*16)
	for i := 0; i < len(want); i += 16 {
		kernels.RMSNorm(want[i:i+16], x.val.F32[i:i+16], mustVector(t, ws["n"]), 1e-6)
	}
	wantBits(t, "rmsnorm", got.F32, want)
}

func TestRope(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const heads, hd, rows, pos = 4, 8, 5, 7
	for _, layout := range []string{ir.RopeInterleaved, ir.RopeHalfSplit} {
		x := seqParam(r, rows, heads*hd)
		ps := []param{x, posParam(pos)}
		spec := ir.Rope{Heads: heads, HeadDim: hd, Theta: 10000, Layout: layout}
		m := oneFunc(t, nil, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.Rope(p[0], p[1], spec)} })
		got := run(t, m, nil, ps)[0]
		want := slices.Clone(x.val.F32)
		cos, sin := make([]float32, hd/2), make([]float32, hd/2)
		for i := range rows {
			kernels.RopeTable(cos, sin, pos+i, hd, 10000)
			kernels.Rope(want[i*heads*hd:(i+1)*heads*hd], cos, sin, hd, layout)
		}
		wantBits(t, layout, got.F32, want)
		if sameBits(got.F32, x.val.F32) < 0 {
			t.Fatal("rope changed nothing")
		}
	}
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	a, b := f32Param(r, 3, 7), f32Param(r, 3, 7)
	ps := []param{a, b}
	m := oneFunc(t, nil, nil, ps, func(bl *ir.Builder, p []*ir.Value) []*ir.Value {
		half := bl.Const(0.5)
		return []*ir.Value{bl.Softmax(p[0]), bl.Silu(p[0]), bl.Gelu(p[0]), bl.Mul(p[0], p[1]), bl.Add(p[0], p[1]),
			bl.Mul(p[0], half), bl.Add(half, p[1]), half}
	})
	got := run(t, m, nil, ps)
	x, y := a.val.F32, b.val.F32

	soft := slices.Clone(x)
	for i := 0; i < len(soft); i += 7 {
		kernels.Softmax(soft[i : i+7])
	}
	silu := slices.Clone(x)
	kernels.SiLU(silu)
	gelu, mul, add, scaled, shifted := make([]float32, 21), make([]float32, 21), make([]float32, 21), make([]float32, 21), make([]float32, 21)
	for i := range x {
		v := float64(x[i])
		gelu[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		mul[i] = x[i] * y[i]
		add[i] = x[i] + y[i]
		scaled[i] = x[i] * 0.5
		shifted[i] = 0.5 + y[i]
	}
	names := []string{"softmax", "silu", "gelu", "mul", "add", "mul by scalar", "scalar add", "const"}
	for i, want := range [][]float32{soft, silu, gelu, mul, add, scaled, shifted, {0.5}} {
		wantBits(t, names[i], got[i].F32, want)
	}
	if len(got[7].Shape) != 0 {
		t.Errorf("const has shape %v", got[7].Shape)
	}
}

func TestShapeOps(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	x := f32Param(r, 2, 3, 4)
	ps := []param{x, {ir.T(ir.F32, ir.S("seq"), ir.C(5)), interp.F32Value(randVals(r, 15, 1), 3, 5)}}
	m := oneFunc(t, nil, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value {
		return []*ir.Value{
			b.Reshape(p[0], 0, 12),
			b.Transpose(p[0], 2, 0, 1),
			b.SliceRange(p[0], 1, 1, 3),
			b.SliceRange(p[0], 2, -3, -1),
			b.Slice(p[1], 0, -1),
			b.SliceRange(p[1], 0, 1, 3),
			b.Argmax(p[1]),
			b.Transpose(b.Argmax(p[0]), 1, 0),
		}
	})
	got := run(t, m, nil, ps)
	at := func(i, j, k int) float32 { return x.val.F32[(i*3+j)*4+k] }
	s := ps[1].val.F32

	wantBits(t, "reshape", got[0].F32, x.val.F32)
	if !slices.Equal(got[0].Shape, []int{2, 12}) {
		t.Errorf("reshape shape %v", got[0].Shape)
	}
	var tr, sl1, sl2 []float32
	for k := range 4 {
		for i := range 2 {
			for j := range 3 {
				tr = append(tr, at(i, j, k))
			}
		}
	}
	for i := range 2 {
		for j := 1; j < 3; j++ {
			for k := range 4 {
				sl1 = append(sl1, at(i, j, k))
			}
		}
		for j := range 3 {
			for k := 1; k < 3; k++ {
				sl2 = append(sl2, at(i, j, k))
			}
		}
	}
	wantBits(t, "transpose", got[1].F32, tr)
	wantBits(t, "slice axis 1", got[2].F32, sl1)
	wantBits(t, "slice negative", got[3].F32, sl2)
	wantBits(t, "slice last row", got[4].F32, s[10:15])
	wantBits(t, "slice rows 1..2", got[5].F32, s[5:15])
	for i := range 3 {
		if want := int32(argmaxRef(s[i*5 : (i+1)*5])); got[6].I32[i] != want {
			t.Errorf("argmax row %d: %d, want %d", i, got[6].I32[i], want)
		}
	}
	// argmax of [2,3,4] is i32[2,3]; transposed it is [3,2].
	for i := range 2 {
		for j := range 3 {
			row := x.val.F32[(i*3+j)*4 : (i*3+j+1)*4]
			if g, w := got[7].I32[j*2+i], int32(argmaxRef(row)); g != w {
				t.Errorf("transposed argmax [%d,%d]: %d, want %d", j, i, g, w)
			}
		}
	}
}

// argmaxRef is the first index of the maximum.
func argmaxRef(x []float32) int {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

func TestArgmaxTies(t *testing.T) {
	ps := []param{{ir.T(ir.F32, ir.C(2), ir.C(4)), interp.F32Value([]float32{1, 3, 3, 2, -1, -1, -1, -1}, 2, 4)}}
	m := oneFunc(t, nil, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return []*ir.Value{b.Argmax(p[0])} })
	if got := run(t, m, nil, ps)[0].I32; !slices.Equal(got, []int32{1, 0}) {
		t.Errorf("argmax %v, want [1 0] (first of ties)", got)
	}
}

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSiLUMulIsSiLUThenMul checks the fused SwiGLU step against its two
// separate ops bit for bit: the IR's silu + mul must reproduce it.
func TestSiLUMulIsSiLUThenMul(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	gate, up := randVals(r, 1000, 4), randVals(r, 1000, 1)
	fused := append([]float32(nil), gate...)
	SiLUMul(fused, up)
	SiLU(gate)
	Mul(gate, up)
	for i := range gate {
		if math.Float32bits(fused[i]) != math.Float32bits(gate[i]) {
			t.Fatalf("element %d: SiLUMul %v, SiLU+Mul %v", i, fused[i], gate[i])
		}
	}
}

// TestOpsMatchDefinitions compares RMSNorm, Softmax, SiLU and Add with
// their float64 definitions.
func TestOpsMatchDefinitions(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	x, w := randVals(r, 64, 2), randVals(r, 64, 1)
	out := make([]float32, 64)
	RMSNorm(out, x, w, 1e-5)
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := 1 / math.Sqrt(ss/64+1e-5)
	for i := range x {
		if want := float64(w[i]) * float64(x[i]) * inv; math.Abs(float64(out[i])-want) > 1e-5 {
			t.Fatalf("rmsnorm %d: got %v, want %v", i, out[i], want)
		}
	}
	RMSNorm(x, x, w, 1e-5) // in place gives the same
	for i := range x {
		if x[i] != out[i] {
			t.Fatalf("in-place rmsnorm %d: %v, want %v", i, x[i], out[i])
		}
	}

	s := []float32{1, 3, -2, 1000, 999}
	Softmax(s)
	den := math.Exp(-999) + math.Exp(-997) + math.Exp(-1002) + 1 + math.Exp(-1)
	for i, e := range []float64{-999, -997, -1002, 0, -1} {
		if want := math.Exp(e) / den; math.Abs(float64(s[i])-want) > 1e-6 {
			t.Errorf("softmax %d: got %v, want %v", i, s[i], want)
		}
	}

	v := []float32{-3, 0, 0.5, 20}
	SiLU(v)
	for i, in := range []float64{-3, 0, 0.5, 20} {
		if want := in / (1 + math.Exp(-in)); math.Abs(float64(v[i])-want) > 1e-6 {
			t.Errorf("silu(%v): got %v, want %v", in, v[i], want)
		}
	}
	a := []float32{1, 2, 3}
	Add(a, []float32{0.5, -2, 10, 99})
	if a[0] != 1.5 || a[1] != 0 || a[2] != 13 {
		t.Errorf("add: %v", a)
	}
	if Expf(0) != 1 || Expf(1) != float32(math.E) {
		t.Errorf("expf: %v %v", Expf(0), Expf(1))
	}
}

package gguf

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/tensor"
)

// f16Eps is the relative rounding error of float16 (half an ulp: 2^-11).
const f16Eps = 1.0 / 2048

// values widens a tensor to float32: floats as stored, quantized blocks
// dequantized as value = int8*scale or (nibble-8)*scale.
func values(t testing.TB, tt *tensor.Tensor) []float32 {
	t.Helper()
	n := tt.Elements()
	out := make([]float32, n)
	switch tt.DType {
	case tensor.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(tt.Data[4*i:]))
		}
	case tensor.F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(tt.Data[2*i:]))
		}
	case tensor.Q8_0:
		for i := range out {
			out[i] = float32(int8(tt.Data[i])) * tt.Scales[i/tensor.BlockSize]
		}
	case tensor.Q4_0:
		for i := range out {
			blk, j := i/tensor.BlockSize, i%tensor.BlockSize
			b := tt.Data[blk*16+j%16]
			q := b & 0xf
			if j >= 16 {
				q = b >> 4
			}
			out[i] = float32(int(q)-8) * tt.Scales[blk]
		}
	default:
		t.Fatalf("%s: dtype %s", tt.Name, tt.DType)
	}
	return out
}

// TestQ8MatchesF16 compares the Q8_0 conversion of TinyStories-656K with its
// F16 conversion. Q8_0 rounds x/d to an integer with d = amax/127 and then
// stores d as f16; F16 rounds x itself. So per element
// |q*d16 - f16(x)| <= d/2 + 127*d*f16Eps (scale rounding) + amax*f16Eps
// (the F16 side), i.e. tol = scale/2 + 2*amax*f16Eps with amax = 127*scale.
func TestQ8MatchesF16(t *testing.T) {
	q8, err := Open(testfiles.SharedFile(t, "models/tinystories-656k/tinystories-656k-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	f16, err := Open(testfiles.SharedFile(t, "models/tinystories-656k/TinyStories-656K.f16.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f16.Close()
	quantized := 0
	worst := 0.0 // largest |diff| / scale over the quantized tensors
	for _, info := range q8.Tensors() {
		a, err := q8.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f16.ReadTensor(info.Name)
		if err != nil {
			t.Fatalf("F16 file: %v", err)
		}
		if !slices.Equal(a.Shape, b.Shape) {
			t.Fatalf("%s: shapes %v and %v", info.Name, a.Shape, b.Shape)
		}
		va, vb := values(t, a), values(t, b)
		for i := range va {
			diff := math.Abs(float64(va[i] - vb[i]))
			var tol float64
			if a.DType == tensor.Q8_0 {
				s := float64(a.Scales[i/tensor.BlockSize])
				tol = s/2 + 2*127*s*f16Eps
				if s > 0 {
					worst = max(worst, diff/s)
				}
			} else {
				tol = math.Abs(float64(va[i]))*f16Eps + 1e-7
			}
			if diff > tol {
				t.Fatalf("%s[%d]: q8 %g vs f16 %g, |diff| %g > %g", info.Name, i, va[i], vb[i], diff, tol)
			}
		}
		if a.DType == tensor.Q8_0 {
			quantized++
		}
	}
	if quantized == 0 {
		t.Fatal("the Q8_0 file has no Q8_0 tensors")
	}
	t.Logf("%d Q8_0 tensors; worst |diff|/scale = %.4f (bound 0.5+254/2048 = %.4f)", quantized, worst, 0.5+254*f16Eps)
}

// TestAltQ8SameTensors compares the two public Q8_0 conversions tensor by
// tensor: same names, shapes, types, and bit-identical int8s and scales.
func TestAltQ8SameTensors(t *testing.T) {
	a, err := Open(testfiles.SharedFile(t, "models/tinystories-656k/tinystories-656k-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(testfiles.SharedFile(t, "models/tinystories-656k/TinyStories-656K-Q8_0.alt.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(a.Tensors()) != len(b.Tensors()) {
		t.Fatalf("%d vs %d tensors", len(a.Tensors()), len(b.Tensors()))
	}
	sameOrder := true
	for i, info := range a.Tensors() {
		if b.Tensors()[i].Name != info.Name {
			sameOrder = false
		}
		ta, err := a.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := b.ReadTensor(info.Name)
		if err != nil {
			t.Fatalf("alt file: %v", err)
		}
		if ta.DType != tb.DType || !slices.Equal(ta.Shape, tb.Shape) || !slices.Equal(ta.Data, tb.Data) || !slices.Equal(ta.Scales, tb.Scales) {
			t.Errorf("%s differs: %s %v vs %s %v", info.Name, ta.DType, ta.Shape, tb.DType, tb.Shape)
		}
	}
	t.Logf("%d tensors equal; same order: %v", len(a.Tensors()), sameOrder)
}

// TestF16ToF32 checks the half-float widening on exact cases.
func TestF16ToF32(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24),
		0x8001: -1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24), 0x0400: 1.0 / (1 << 14), 0x3555: 0.333251953125,
	}
	for h, want := range cases {
		if got := F16ToF32(h); got != want {
			t.Errorf("F16ToF32(%#04x) = %g, want %g", h, got, want)
		}
	}
	if !math.IsInf(float64(F16ToF32(0x7c00)), 1) || !math.IsInf(float64(F16ToF32(0xfc00)), -1) || !math.IsNaN(float64(F16ToF32(0x7e00))) {
		t.Errorf("inf/NaN not preserved")
	}
	if got := F16ToF32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("negative zero: %g", got)
	}
}

package tensor_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// f32Tensor stores values as an F32 tensor of the given shape.
func f32Tensor(name string, x []float32, shape ...int) *tensor.Tensor {
	data := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return &tensor.Tensor{Name: name, DType: tensor.F32, Shape: shape, Data: data}
}

func convert(t *testing.T, src *tensor.Tensor, to tensor.DType) *tensor.Tensor {
	t.Helper()
	out, err := tensor.Convert(src, to)
	if err != nil {
		t.Fatalf("Convert(%v -> %v): %v", src.DType, to, err)
	}
	return out
}

func TestF32ToF16Values(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3c00},
		{-2, 0xc000},
		{0.1, 0x2e66},
		{65504, 0x7bff},                 // largest half
		{65519, 0x7bff},                 // just under the midpoint to inf
		{65520, 0x7c00},                 // the midpoint: 0x7bff is odd, so up to inf
		{1e9, 0x7c00},                   // overflow
		{float32(math.Inf(-1)), 0xfc00}, // -inf
		{float32(math.NaN()), 0x7e00},   // quiet NaN
		{math.Float32frombits(0x80000000), 0x8000},          // -0
		{1 + 1.0/2048, 0x3c00},                              // tie between 1 and 1+2^-10: even
		{1 + 3.0/2048, 0x3c02},                              // tie between 0x3c01 and 0x3c02: even
		{1.0 / (1 << 24), 0x0001},                           // smallest subnormal
		{1.0 / (1 << 25), 0x0000},                           // half of it: tie to even zero
		{1.5 / (1 << 25), 0x0001},                           // above the tie
		{3.0 / (1 << 25), 0x0002},                           // 1.5 subnormal ulps: tie to even 2
		{1.0 / (1 << 14), 0x0400},                           // smallest normal
		{1.0/(1<<14) - 1.0/(1<<25), 0x0400},                 // rounds up into the normals
		{math.Float32frombits(0x00000001), 0x0000},          // a float32 subnormal
		{-1.0 / (1 << 24), 0x8001},                          // negative subnormal
		{float32(65504 + 16 - 1.0/256), 0x7bff},             // below the overflow midpoint
		{math.Float32frombits(0x477fefff), 0x7bff},          // largest float32 under 65520
		{math.Float32frombits(0x7f800001), 0x7e00},          // signalling NaN becomes quiet
		{math.Float32frombits(0xff800001), 0xfe00},          // with its sign
		{math.Float32frombits(0x3f800000 + 0x1000), 0x3c00}, // 1 + half an f16 ulp exactly
	}
	for _, c := range cases {
		if got := tensor.F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%g = %#08x) = %#04x, want %#04x", c.f, math.Float32bits(c.f), got, c.want)
		}
	}
}

// TestF32ToF16Exhaustive checks every half: it converts back to itself, the
// midpoint to its successor rounds to the even one of the two, and the
// float32 values just either side of the midpoint round to the nearer.
func TestF32ToF16Exhaustive(t *testing.T) {
	for h := 0; h < 0x7c00; h++ {
		for _, sign := range []uint16{0, 0x8000} {
			a := uint16(h) | sign
			fa := tensor.F16ToF32(a)
			if got := tensor.F32ToF16(fa); got != a {
				t.Fatalf("half %#04x -> %g -> %#04x", a, fa, got)
			}
			if h == 0x7bff {
				continue // its successor is inf: the overflow cases are in TestF32ToF16Values
			}
			b := a + 1 // the next half away from zero
			fb := tensor.F16ToF32(b)
			mid := (fa + fb) / 2 // exact: halves have 11 significant bits
			even := a
			if a&1 == 1 {
				even = b
			}
			if got := tensor.F32ToF16(mid); got != even {
				t.Fatalf("midpoint of %#04x and %#04x (%g) -> %#04x, want %#04x", a, b, mid, got, even)
			}
			below := math.Float32frombits(math.Float32bits(mid) - 1) // toward zero
			above := math.Float32frombits(math.Float32bits(mid) + 1)
			if mid == 0 {
				continue
			}
			if got := tensor.F32ToF16(below); got != a {
				t.Fatalf("just inside %g -> %#04x, want %#04x", below, got, a)
			}
			if got := tensor.F32ToF16(above); got != b {
				t.Fatalf("just beyond %g -> %#04x, want %#04x", above, got, b)
			}
		}
	}
}

func TestF16ToF32MatchesKernels(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		a, b := tensor.F16ToF32(uint16(h)), kernels.F16ToF32(uint16(h))
		if math.Float32bits(a) != math.Float32bits(b) {
			t.Fatalf("half %#04x: tensor %#08x, kernels %#08x", h, math.Float32bits(a), math.Float32bits(b))
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	cases := []struct {
		bits uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // 1 + 2^-8: tie, 0x3f80 is even
		{0x3f818000, 0x3f82}, // tie between 0x3f81 and 0x3f82: even
		{0x3f808001, 0x3f81}, // above the tie
		{0x3f807fff, 0x3f80}, // below the tie
		{0x7f7fffff, 0x7f80}, // largest float32 rounds to inf
		{0x7f800000, 0x7f80}, // inf
		{0xff800000, 0xff80}, // -inf
		{0x7f800001, 0x7fc0}, // signalling NaN becomes quiet
		{0xffc00000, 0xffc0}, // quiet NaN with sign
		{0x00000001, 0x0000}, // float32 subnormal, kept (rounds to 0 here)
		{0x00018000, 0x0002}, // subnormal tie to even
	}
	for _, c := range cases {
		if got := tensor.F32ToBF16(math.Float32frombits(c.bits)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.bits, got, c.want)
		}
	}
}

// TestConvertQ8Block checks hand-computed blocks of ggml's q8_0.
func TestConvertQ8Block(t *testing.T) {
	x := make([]float32, 4*32)
	// Block 0: amax 127, so d = 1 and q = roundf(x): halves go away from zero.
	copy(x[0:], []float32{127, -127, 0.5, -0.5, 1.5, 2.5, -2.5, 126.49, 0})
	// Block 1: amax 63.5, d = 0.5, q = roundf(2x).
	copy(x[32:], []float32{63.5, 0.25, -0.25, 1, -63.5, 0.2})
	// Block 2: all zero: d = 0, every q 0.
	// Block 3: amax = 127·(1+2^-12), so d = 1+2^-12, which f16 rounds to 1.
	copy(x[96:], []float32{127 * (1 + 1.0/4096), 10})
	q := convert(t, f32Tensor("w", x, 4, 32), tensor.Q8_0)
	wantQ := map[int]int8{0: 127, 1: -127, 2: 1, 3: -1, 4: 2, 5: 3, 6: -3, 7: 126,
		32: 127, 33: 1, 34: -1, 35: 2, 36: -127, 37: 0,
		96: 127, 97: 10}
	for i := range x {
		if got := int8(q.Data[i]); got != wantQ[i] {
			t.Errorf("q[%d] = %d, want %d (x = %g)", i, got, wantQ[i], x[i])
		}
	}
	wantS := []float32{1, 0.5, 0, 1}
	for b, s := range wantS {
		if q.Scales[b] != s {
			t.Errorf("scale[%d] = %g, want %g", b, q.Scales[b], s)
		}
	}
	if q.DType != tensor.Q8_0 || len(q.Shape) != 2 || q.Shape[0] != 4 || q.Shape[1] != 32 {
		t.Errorf("converted tensor is %v %v", q.DType, q.Shape)
	}
}

// TestConvertQ4Block checks hand-computed blocks of ggml's q4_0: the scale
// comes from the element of largest magnitude with its sign, ties in
// magnitude keep the first, values round half up and clamp at 15.
func TestConvertQ4Block(t *testing.T) {
	x := make([]float32, 64)
	// Block 0: -8 comes before 8, so m = -8, d = 1, q = trunc(x + 8.5).
	copy(x[0:], []float32{-8, 8, -2.5, 2.5, 0.49, 7, 3.5})
	x[16], x[17] = -7.5, 1
	// Block 1: m = 16, d = -2, q = trunc(-x/2 + 8.5).
	copy(x[32:], []float32{16, -16, 3})
	q := convert(t, f32Tensor("w", x, 64), tensor.Q4_0)
	want := []byte{0x10, 0x9f, 0x86, 0x8b, 0x88, 0x8f, 0x8c, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
		0x80, 0x8f, 0x87, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88}
	for i := range want {
		if q.Data[i] != want[i] {
			t.Errorf("byte %d = %#02x, want %#02x", i, q.Data[i], want[i])
		}
	}
	if q.Scales[0] != 1 || q.Scales[1] != -2 {
		t.Errorf("scales %v, want [1 -2]", q.Scales)
	}
	back := tensor.Float32s(q)
	wantBack := map[int]float32{0: -8, 1: 7, 2: -2, 3: 3, 4: 0, 5: 7, 6: 4, 16: -7, 17: 1, 32: 16, 33: -14, 34: 2}
	for i := range x {
		if back[i] != wantBack[i] {
			t.Errorf("dequantized[%d] = %g, want %g (x = %g)", i, back[i], wantBack[i], x[i])
		}
	}
}

// TestConvertAnyToAny converts random data through every pair of dtypes:
// a conversion equals decoding to float32 and encoding that, converting to
// the same type copies, and the float32 decoding agrees with the kernels'.
func TestConvertAnyToAny(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	x := make([]float32, 3*64)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * 0.1
	}
	base := f32Tensor("w", x, 3, 64)
	all := []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0}
	for _, from := range all {
		src := convert(t, base, from)
		dec := tensor.Float32s(src)
		m, err := kernels.NewMatrix(src, "w", 3, 64)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, 64)
		for i := 0; i < 3; i++ {
			m.Row(i, row)
			for j := range row {
				if math.Float32bits(row[j]) != math.Float32bits(dec[i*64+j]) {
					t.Fatalf("%v: element %d,%d: Float32s %g, kernels %g", from, i, j, dec[i*64+j], row[j])
				}
			}
		}
		for _, to := range all {
			got := convert(t, src, to)
			want := convert(t, f32Tensor("w", dec, 3, 64), to)
			if string(got.Data) != string(want.Data) || !equalF32(got.Scales, want.Scales) {
				t.Errorf("%v -> %v differs from %v -> f32 -> %v", from, to, from, to)
			}
			if from == to && (string(got.Data) != string(src.Data) || &got.Data[0] == &src.Data[0]) {
				t.Errorf("%v -> %v is not an unaliased copy", from, to)
			}
		}
	}
	// Quantizing is idempotent: the values of a q8_0 tensor quantize back to
	// the same bytes (each block's largest element becomes exactly ±127·d).
	q := convert(t, base, tensor.Q8_0)
	again := convert(t, convert(t, q, tensor.F32), tensor.Q8_0)
	if string(q.Data) != string(again.Data) || !equalF32(q.Scales, again.Scales) {
		t.Error("q8_0 -> f32 -> q8_0 changed the tensor")
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestConvertErrors(t *testing.T) {
	ok := f32Tensor("ok", make([]float32, 32), 32)
	cases := []struct {
		name string
		t    *tensor.Tensor
		to   tensor.DType
	}{
		{"nil", nil, tensor.F16},
		{"unknown target", ok, tensor.DType(9)},
		{"unknown source", &tensor.Tensor{Name: "x", DType: 7, Shape: []int{1}}, tensor.F32},
		{"short data", &tensor.Tensor{Name: "x", DType: tensor.F32, Shape: []int{4}, Data: make([]byte, 15)}, tensor.F16},
		{"negative dim", &tensor.Tensor{Name: "x", DType: tensor.F32, Shape: []int{-4}}, tensor.F16},
		{"overflowing shape", &tensor.Tensor{Name: "x", DType: tensor.F32, Shape: []int{1 << 40, 1 << 40}}, tensor.F16},
		{"missing scales", &tensor.Tensor{Name: "x", DType: tensor.Q8_0, Shape: []int{32}, Data: make([]byte, 32)}, tensor.F32},
		{"partial block source", &tensor.Tensor{Name: "x", DType: tensor.Q8_0, Shape: []int{16}, Data: make([]byte, 16)}, tensor.F32},
		{"partial block target", f32Tensor("x", make([]float32, 48), 48), tensor.Q4_0},
	}
	for _, c := range cases {
		out, err := tensor.Convert(c.t, c.to)
		var ce *tensor.ConvertError
		if err == nil || out != nil || !errors.As(err, &ce) {
			t.Errorf("%s: got %v, %v; want a *ConvertError", c.name, out, err)
		}
	}
}

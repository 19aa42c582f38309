package model

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/omex-dev/omex/tensor"
)

// refF16 decodes a half from its definition, independently of f16ToF32.
func refF16(h uint16) float32 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0x1f:
		if frac != 0 {
			return float32(math.NaN())
		}
		return float32(sign * math.Inf(1))
	case 0:
		return float32(sign * math.Ldexp(frac/1024, -14))
	}
	return float32(sign * math.Ldexp(1+frac/1024, exp-15))
}

func TestF16Decode(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x0400, 1.0 / (1 << 14)}, {0x3555, 0.333251953125}} {
		if got := f16ToF32(tc.h); got != tc.want {
			t.Errorf("f16 %#04x: got %v, want %v", tc.h, got, tc.want)
		}
	}
	for h := range 1 << 16 {
		got, want := f16ToF32(uint16(h)), refF16(uint16(h))
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("f16 %#04x: got %v, want %v", h, got, want)
		}
	}
	if b := math.Float32bits(f16ToF32(0x8000)); b != 0x80000000 {
		t.Errorf("negative zero decoded as %#x", b)
	}
}

// quantized holds a random tensor of one dtype and its values dequantized
// by the reference definitions.
type quantized struct {
	t   *tensor.Tensor
	ref []float32
}

// randomQuantized makes a rows x cols tensor of dtype d with random
// contents (finite for the float types).
func randomQuantized(r *rand.Rand, d tensor.DType, rows, cols int) quantized {
	n := rows * cols
	t := &tensor.Tensor{Name: "w", DType: d, Shape: []int{rows, cols}, Data: make([]byte, d.DataBytes(n))}
	ref := make([]float32, n)
	if d.Quantized() {
		t.Scales = make([]float32, n/tensor.BlockSize)
		for i := range t.Scales {
			t.Scales[i] = float32(r.Float64()*0.02 + 0.001)
		}
	}
	switch d {
	case tensor.F32:
		for i := range ref {
			ref[i] = float32(r.NormFloat64())
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(ref[i]))
		}
	case tensor.F16:
		for i := range ref {
			h := uint16(r.IntN(1 << 16))
			if h>>10&0x1f == 0x1f {
				h &^= 0x4000 // keep it finite
			}
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
			ref[i] = refF16(h)
		}
	case tensor.BF16:
		for i := range ref {
			f := float32(r.NormFloat64())
			h := uint16(math.Float32bits(f) >> 16)
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
			ref[i] = math.Float32frombits(uint32(h) << 16)
		}
	case tensor.Q8_0:
		for i := range ref {
			q := int8(r.IntN(256) - 128)
			t.Data[i] = byte(q)
			ref[i] = float32(q) * t.Scales[i/32]
		}
	case tensor.Q4_0:
		for b := range n / 32 {
			for j := range 16 {
				lo, hi := r.IntN(16), r.IntN(16)
				t.Data[b*16+j] = byte(lo | hi<<4)
				ref[b*32+j] = float32(lo-8) * t.Scales[b]
				ref[b*32+16+j] = float32(hi-8) * t.Scales[b]
			}
		}
	}
	return quantized{t, ref}
}

// refMatVec is the f32 reference: a float32 sum per row in column order.
func refMatVec(w []float32, rows, cols int, x []float32) []float32 {
	out := make([]float32, rows)
	for r := range rows {
		var s float32
		for j := range cols {
			s += float32(w[r*cols+j] * x[j])
		}
		out[r] = s
	}
	return out
}

// TestMatVecDequant checks every dtype's matvec against the f32 reference
// on its dequantized values: bit for bit, since each weight is dequantized
// exactly and the accumulation order is the same. 8x172 has rows that
// start and end inside Q blocks; 600x128 takes the parallel path.
func TestMatVecDequant(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, d := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0} {
		for _, sh := range [][2]int{{8, 172}, {96, 64}, {600, 128}} {
			rows, cols := sh[0], sh[1]
			q := randomQuantized(r, d, rows, cols)
			m, err := newMatrix(q.t, "w", rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			x := randVals(r, cols, 1)
			got := make([]float32, rows)
			m.matVec(got, x)
			want := refMatVec(q.ref, rows, cols, x)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %dx%d row %d: got %v, want %v", d, rows, cols, i, got[i], want[i])
				}
			}
			row := make([]float32, cols)
			for _, ri := range []int{0, rows / 2, rows - 1} {
				m.row(ri, row)
				for j, v := range row {
					if v != q.ref[ri*cols+j] {
						t.Fatalf("%v %dx%d row %d col %d: got %v, want %v", d, rows, cols, ri, j, v, q.ref[ri*cols+j])
					}
				}
			}
		}
	}
}

func TestAsFloat32(t *testing.T) {
	buf := make([]byte, 4*9)
	for i := range 9 {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(i)+0.5))
	}
	v := asFloat32(buf[:32])
	if hostLittleEndian && unsafe.Pointer(&v[0]) != unsafe.Pointer(&buf[0]) {
		t.Error("aligned F32 data was copied instead of viewed in place")
	}
	odd := asFloat32(buf[1:33]) // misaligned: must be a correct copy
	for i := range 8 {
		if v[i] != float32(i)+0.5 {
			t.Errorf("element %d: got %v", i, v[i])
		}
		want := math.Float32frombits(binary.LittleEndian.Uint32(buf[1+4*i:]))
		if math.Float32bits(odd[i]) != math.Float32bits(want) {
			t.Errorf("misaligned element %d: got %v, want %v", i, odd[i], want)
		}
	}
}

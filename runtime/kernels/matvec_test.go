package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/tensor"
)

// refF16 decodes a half from its definition, independently of F16ToF32.
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

// randVals returns n normal values scaled by s.
func randVals(r *rand.Rand, n int, s float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * s)
	}
	return v
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
			m, err := NewMatrix(q.t, "w", rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			x := randVals(r, cols, 1)
			got := make([]float32, rows)
			m.MatVec(got, x)
			want := refMatVec(q.ref, rows, cols, x)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %dx%d row %d: got %v, want %v", d, rows, cols, i, got[i], want[i])
				}
			}
			row := make([]float32, cols)
			for _, ri := range []int{0, rows / 2, rows - 1} {
				m.Row(ri, row)
				for j, v := range row {
					if v != q.ref[ri*cols+j] {
						t.Fatalf("%v %dx%d row %d col %d: got %v, want %v", d, rows, cols, ri, j, v, q.ref[ri*cols+j])
					}
				}
			}
		}
	}
}

// TestMatMulIsRepeatedMatVec checks that MatMul over n rows gives, bit for
// bit, n separate MatVecs, on both the serial and the parallel path.
func TestMatMulIsRepeatedMatVec(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, d := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0} {
		for _, sh := range [][3]int{{8, 172, 1}, {8, 172, 5}, {96, 64, 3}, {600, 128, 7}} {
			rows, cols, n := sh[0], sh[1], sh[2]
			q := randomQuantized(r, d, rows, cols)
			m, err := NewMatrix(q.t, "w", rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			x := randVals(r, n*cols, 1)
			got := make([]float32, n*rows)
			m.MatMul(got, x, n)
			want := make([]float32, rows)
			for i := range n {
				m.MatVec(want, x[i*cols:(i+1)*cols])
				for j, w := range want {
					if g := got[i*rows+j]; math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("%v %dx%d n=%d: row %d out %d: MatMul %v, MatVec %v", d, rows, cols, n, i, j, g, w)
					}
				}
			}
		}
	}
}

package goasm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// randTensor is an n x k tensor of dt with random bytes and scales.
func randTensor(rng *rand.Rand, dt tensor.DType, n, k int) *tensor.Tensor {
	t := &tensor.Tensor{Name: "w", DType: dt, Shape: []int{n, k}, Data: make([]byte, dt.DataBytes(n*k))}
	for i := range t.Data {
		t.Data[i] = byte(rng.Uint32())
	}
	if dt.Quantized() {
		t.Scales = make([]float32, n*k/tensor.BlockSize)
		for i := range t.Scales {
			t.Scales[i] = float32(rng.NormFloat64())
		}
	}
	return t
}

// TestInterleaveRows checks that every row read back from the interleaved
// layout (InterleavedRow) is the row runtime/kernels dequantizes from the
// original, bit for bit, that padding rows are zero, and that the sizes are
// the ones the kernels read.
func TestInterleaveRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0} {
		for _, lanes := range []int{1, 4, 8, 16} {
			for _, sh := range [][2]int{{1, 32}, {7, 64}, {16, 32}, {33, 96}, {5, 7}} {
				n, k := sh[0], sh[1]
				if dt.Quantized() && k%32 != 0 {
					continue
				}
				w := randTensor(rng, dt, n, k)
				orig := append([]byte(nil), w.Data...)
				p, err := Interleave(w, lanes)
				if err != nil {
					t.Fatalf("%v %dx%d/%d: %v", dt, n, k, lanes, err)
				}
				if string(orig) != string(w.Data) {
					t.Fatal("Interleave modified its input")
				}
				isa := map[int]ISA{1: Generic, 4: SSE, 8: AVX2, 16: AVX512}[lanes]
				mv := MatVec{ISA: isa, DType: dt, N: n, K: k}
				if len(p.Data) != mv.WeightBytes() || len(p.Scales) != mv.ScaleCount() {
					t.Fatalf("%s: %d bytes, %d scales; kernel reads %d, %d", mv.Name(), len(p.Data), len(p.Scales), mv.WeightBytes(), mv.ScaleCount())
				}
				m, err := kernels.NewMatrix(w, "w", n, k)
				if err != nil {
					t.Fatal(err)
				}
				want, got := make([]float32, k), make([]float32, k)
				for r := range p.Shape[0] {
					InterleavedRow(p, lanes, r, got)
					if r < n {
						m.Row(r, want)
					} else {
						clear(want) // padding rows are zeros
					}
					for c := range want {
						if math.Float32bits(got[c]) != math.Float32bits(want[c]) && !(got[c] != got[c] && want[c] != want[c]) &&
							!(r >= n && got[c] == 0) {
							t.Fatalf("%s row %d col %d: %g, want %g", mv.Name(), r, c, got[c], want[c])
						}
					}
				}
				if lanes == 1 && dt != tensor.Q4_0 && string(p.Data) != string(w.Data) {
					t.Fatalf("%v: one lane should be the row-major layout", dt)
				}
			}
		}
	}
}

// TestInterleaveRejects checks the model errors for inputs it cannot
// repack.
func TestInterleaveRejects(t *testing.T) {
	good := &tensor.Tensor{Name: "w", DType: tensor.F32, Shape: []int{2, 2}, Data: make([]byte, 16)}
	cases := map[string]struct {
		t     *tensor.Tensor
		lanes int
	}{
		"nil":          {nil, 8},
		"vector":       {&tensor.Tensor{Name: "v", DType: tensor.F32, Shape: []int{4}, Data: make([]byte, 16)}, 8},
		"short data":   {&tensor.Tensor{Name: "w", DType: tensor.F32, Shape: []int{2, 2}, Data: make([]byte, 12)}, 8},
		"dtype":        {&tensor.Tensor{Name: "w", DType: 9, Shape: []int{2, 2}, Data: make([]byte, 16)}, 8},
		"q8 partial K": {&tensor.Tensor{Name: "w", DType: tensor.Q8_0, Shape: []int{2, 16}, Data: make([]byte, 32), Scales: []float32{1}}, 8},
		"no scales":    {&tensor.Tensor{Name: "w", DType: tensor.Q8_0, Shape: []int{1, 32}, Data: make([]byte, 32)}, 8},
		"zero lanes":   {good, 0},
	}
	for name, c := range cases {
		_, err := Interleave(c.t, c.lanes)
		var oe *omexerr.Error
		if !errors.As(err, &oe) {
			t.Errorf("%s: got %v, want an omexerr error", name, err)
		}
	}
}

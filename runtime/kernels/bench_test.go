package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/tensor"
)

// BenchmarkMatVec times a 1024x1024 matvec per stored dtype (SetBytes is
// the weight bytes read, so MB/s is weight bandwidth).
func BenchmarkMatVec(b *testing.B) {
	for _, d := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0} {
		b.Run(d.String(), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			q := randomQuantized(r, d, 1024, 1024)
			m, err := NewMatrix(q.t, "w", 1024, 1024)
			if err != nil {
				b.Fatal(err)
			}
			x := randVals(r, 1024, 1)
			out := make([]float32, 1024)
			b.SetBytes(int64(len(q.t.Data)))
			for b.Loop() {
				m.MatVec(out, x)
			}
		})
	}
}

// BenchmarkMatMul times an F32 1024x1024 product over 16 rows (prefill),
// to compare with 16 MatVecs.
func BenchmarkMatMul(b *testing.B) {
	const n = 16
	r := rand.New(rand.NewPCG(1, 2))
	q := randomQuantized(r, tensor.F32, 1024, 1024)
	m, err := NewMatrix(q.t, "w", 1024, 1024)
	if err != nil {
		b.Fatal(err)
	}
	x := randVals(r, n*1024, 1)
	out := make([]float32, n*1024)
	b.SetBytes(int64(len(q.t.Data)))
	for b.Loop() {
		m.MatMul(out, x, n)
	}
}

// BenchmarkAttention times one query row of 32 heads (8 KV heads) of 64
// dims over 512 cached positions.
func BenchmarkAttention(b *testing.B) {
	const heads, kvHeads, hd, npos = 32, 8, 64, 512
	r := rand.New(rand.NewPCG(3, 4))
	keys, values := randVals(r, npos*kvHeads*hd, 1), randVals(r, npos*kvHeads*hd, 1)
	q := randVals(r, heads*hd, 1)
	out, scores := make([]float32, heads*hd), make([]float32, npos)
	for b.Loop() {
		Attention(out, q, keys, values, heads, kvHeads, hd, npos, scores)
	}
}

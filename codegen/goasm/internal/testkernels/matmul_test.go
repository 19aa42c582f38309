package testkernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
)

// TestMatMulBitIdentical runs every kernel's several-rows form (NAME_rows:
// assembly for the amd64 ISAs where this CPU has them and for NEON on
// arm64, NAME per row
// elsewhere) on random rows at odd strides and row counts, over all groups
// and random group ranges, against NAME on each row, bit for bit; rows
// outside the count and padding between rows stay untouched.
func TestMatMulBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range matvecKernels {
		if c.n*c.k > 1<<20 {
			continue
		}
		if _, ok := runsHere(t, c); !ok {
			continue
		}
		rowsFn := matmulKernels[c.name]
		if rowsFn == nil {
			t.Fatalf("%s has no several-rows form", c.name)
		}
		t.Run(c.name, func(t *testing.T) {
			w := randomMatrix(rng, dtypes[c.dtype], c.n, c.k)
			p, err := goasm.Interleave(w, c.lanes)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{1, 3, 4, 5, 8, 9, 12, 17} {
				stride := c.n + c.k + rng.IntN(7) // out at 0, x at c.n: apart
				buf := make([]float32, rows*stride+3)
				for i := range buf {
					buf[i] = randFloat(rng)
				}
				if rows == 5 {
					for i := c.n; i < c.n+c.k; i++ {
						buf[2*stride+i] = 0 // a row of zero inputs: signs of zero
					}
				}
				g0, g1 := 0, c.groups
				if rows == 9 {
					g0 = rng.IntN(c.groups + 1)
					g1 = g0 + rng.IntN(c.groups-g0+1)
				}
				want := append([]float32(nil), buf...)
				for r := range rows {
					c.fn(want[r*stride:], p.Data, p.Scales, want[r*stride+c.n:], g0, g1)
				}
				rowsFn(buf, p.Data, p.Scales, buf[c.n:], rows, stride, g0, g1)
				for i := range buf {
					if !sameBits(buf[i], want[i]) {
						t.Fatalf("rows %d stride %d groups %d..%d: element %d (row %d, col %d) = %g (%#08x), per-row %s gives %g (%#08x)",
							rows, stride, g0, g1, i, i/stride, i%stride, buf[i], math.Float32bits(buf[i]), c.name, want[i], math.Float32bits(want[i]))
					}
				}
			}
		})
	}
}

// BenchmarkMatMul times 16 rows through the several-rows kernel against 16
// calls of the matvec kernel (single-threaded, all groups).
func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	const rows = 16
	for _, c := range matvecKernels {
		if c.dtype != "f32" && c.dtype != "q8_0" || !(c.n == 4096 || c.n == 512) {
			continue
		}
		asm, ok := runsHere(b, c)
		if !asm || !ok {
			continue
		}
		p, err := goasm.Interleave(randomMatrix(rng, dtypes[c.dtype], c.n, c.k), c.lanes)
		if err != nil {
			b.Fatal(err)
		}
		stride := c.n + c.k
		buf := randVector(rng, rows*stride)
		b.Run(fmt.Sprintf("%s/rows", c.name), func(b *testing.B) {
			for b.Loop() {
				matmulKernels[c.name](buf, p.Data, p.Scales, buf[c.n:], rows, stride, 0, c.groups)
			}
		})
		b.Run(fmt.Sprintf("%s/matvecs", c.name), func(b *testing.B) {
			for b.Loop() {
				for r := range rows {
					c.fn(buf[r*stride:], p.Data, p.Scales, buf[r*stride+c.n:], 0, c.groups)
				}
			}
		})
	}
}

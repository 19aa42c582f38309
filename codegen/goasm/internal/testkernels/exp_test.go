package testkernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/omex-dev/omex/runtime/kernels"
)

// expRunsHere reports whether exp kernel set c executes its assembly here
// and whether it can run at all (a missing CPU feature would fault); a set
// without assembly (group 1) runs its fallbacks everywhere.
func expRunsHere(t testing.TB, c expKernel) (asm, ok bool) {
	if c.group == 1 {
		return false, true
	}
	return isaRunsHere(t, c.goarch, c.isa)
}

// expSpecials are arguments at and around every boundary of the kernels:
// the limits of the assembly's range, float32 subnormal and overflow
// results, signed zeros, infinities, NaN.
var expSpecials = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 1e-30, -1e-30, 1e-45, -1e-45,
	-87, -87.00001, -86.99999, -87.5, -100, -103.97, -103.98, -103.99, -104, -104.00001, -110, -150, -1e30,
	88, 88.00001, 87.99999, 88.5, 88.72, 88.73, 89, 100, 1e30,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	// exps within 64 float64 ulp of a float32 midpoint (found by a sweep)
	math.Float32frombits(0x33800001), math.Float32frombits(0x34dffffd), math.Float32frombits(0x377eff81),
	math.Float32frombits(0x38643e69), math.Float32frombits(0x3c8442d2), math.Float32frombits(0x3fa1d683),
}

// expNearMidpoint are the arguments of expSpecials whose exp lies near a
// float32 midpoint: the assembly must leave them to the scalar reference.
var expNearMidpoint = expSpecials[len(expSpecials)-6:]

// expInputs returns n arguments: mostly moderate values (the common case),
// some wide ones, some specials.
func expInputs(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch rng.IntN(8) {
		case 0:
			x[i] = expSpecials[rng.IntN(len(expSpecials))]
		case 1:
			x[i] = float32(rng.Float64()*240 - 130)
		default:
			x[i] = float32(rng.NormFloat64() * 4)
		}
	}
	return x
}

// firstDiff reports the first index where a and b differ as float32 bits.
func firstDiff(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, true
}

// TestExpKernelsBitIdentical compares every exp kernel that runs here
// with runtime/kernels on random and boundary inputs at lengths that are
// and are not multiples of the group.
func TestExpKernelsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ran := 0
	for _, c := range expKernels {
		asm, ok := expRunsHere(t, c)
		if !ok {
			t.Logf("%s: CPU lacks the features, skipped", c.isa)
			continue
		}
		if asm {
			ran++
		}
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 172, 1000} {
			for trial := range 20 {
				x := expInputs(rng, n)
				up := expInputs(rng, n)
				m := x[rng.IntN(n)]
				if trial%2 == 0 {
					m = 0
				}
				name := fmt.Sprintf("%s n=%d trial %d", c.isa, n, trial)

				got, want := make([]float32, n), make([]float32, n)
				c.expSub(got, x, m)
				for i, v := range x {
					want[i] = kernels.Expf(v - m)
				}
				if i, ok := firstDiff(got, want); !ok {
					t.Fatalf("%s expSub: exp(%g - %g) = %g, want %g", name, x[i], m, got[i], want[i])
				}

				got, want = append(got[:0], x...), append(want[:0], x...)
				c.silu(got)
				kernels.SiLU(want)
				if i, ok := firstDiff(got, want); !ok {
					t.Fatalf("%s silu(%g) = %g, want %g", name, x[i], got[i], want[i])
				}

				got, want = append(got[:0], x...), append(want[:0], x...)
				c.siluMul(got, up)
				kernels.SiLUMul(want, up)
				if i, ok := firstDiff(got, want); !ok {
					t.Fatalf("%s siluMul(%g, %g) = %g, want %g", name, x[i], up[i], got[i], want[i])
				}

				// Softmax rows are finite scores.
				for i := range x {
					x[i] = float32(rng.NormFloat64() * float64(1+trial*3))
				}
				got, want = append(got[:0], x...), append(want[:0], x...)
				c.softmax(got)
				kernels.Softmax(want)
				if i, ok := firstDiff(got, want); !ok {
					t.Fatalf("%s softmax element %d = %g, want %g", name, i, got[i], want[i])
				}
			}
		}
	}
	t.Logf("exp kernel sets run as assembly on %s: %d", runtime.GOARCH, ran)
}

// TestExpKernelsSweep runs expSub and SiLU over a stride through every
// float32 bit pattern (about 2 million arguments) against the scalar
// reference, and checks the assembly computed nearly all of them itself:
// the part left to the scalar reference is a handful of groups.
func TestExpKernelsSweep(t *testing.T) {
	const stride = 2039
	var x []float32
	for b := uint64(0); b < 1<<32; b += stride {
		x = append(x, math.Float32frombits(uint32(b)))
	}
	for _, c := range expKernels {
		asm, ok := expRunsHere(t, c)
		if !asm || !ok {
			continue
		}
		got, want := make([]float32, len(x)), make([]float32, len(x))
		c.expSub(got, x, 0)
		for i, v := range x {
			want[i] = kernels.Expf(v)
		}
		if i, ok := firstDiff(got, want); !ok {
			t.Fatalf("%s expSub: exp(%g) = %g, want %g", c.isa, x[i], got[i], want[i])
		}
		got, want = append(got[:0], x...), append(want[:0], x...)
		c.silu(got)
		kernels.SiLU(want)
		if i, ok := firstDiff(got, want); !ok {
			t.Fatalf("%s silu(%g) = %g, want %g", c.isa, x[i], got[i], want[i])
		}
	}
}

// TestExpAssemblyDoesTheWork: on ordinary arguments the assembly body
// computes every whole group (a body that always stopped would pass the
// bit-identity tests by leaving everything to the scalar reference).
func TestExpAssemblyDoesTheWork(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	out := make([]float32, len(x))
	for _, c := range expKernels {
		if asm, ok := expRunsHere(t, c); !asm || !ok {
			continue
		}
		n := c.expSubBody(out, x, 0)
		// A stop is possible only at a lane near a float32 midpoint, about
		// one lane in ten million.
		if n < len(x)/2 {
			t.Errorf("%s: the assembly computed %d of %d ordinary exps", c.isa, n, len(x))
		}
		// ... and it stops at the group of an argument whose exp is near a
		// float32 midpoint, or outside its range.
		for _, v := range append([]float32{-90, 89, float32(math.NaN())}, expNearMidpoint...) {
			g := make([]float32, 2*c.group)
			g[c.group+1] = v
			if n := c.expSubBody(out, g, 0); n != c.group {
				t.Errorf("%s: exp(%g) in the second group: the assembly computed %d elements, want %d", c.isa, v, n, c.group)
			}
		}
	}
}

// BenchmarkExp compares each exp kernel that runs here with the scalar
// reference on typical rows: a softmax over 512 positions, SiLU·mul over a
// 1024-wide feed-forward row.
func BenchmarkExp(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	scores, gate, up := make([]float32, 512), make([]float32, 1024), make([]float32, 1024)
	for i := range scores {
		scores[i] = float32(rng.NormFloat64() * 3)
	}
	for i := range gate {
		gate[i], up[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	row, g := make([]float32, len(scores)), make([]float32, len(gate))
	b.Run("softmax512/reference", func(b *testing.B) {
		for b.Loop() {
			copy(row, scores)
			kernels.Softmax(row)
		}
	})
	b.Run("silumul1024/reference", func(b *testing.B) {
		for b.Loop() {
			copy(g, gate)
			kernels.SiLUMul(g, up)
		}
	})
	for _, c := range expKernels {
		if asm, ok := expRunsHere(b, c); !asm || !ok {
			continue
		}
		b.Run("softmax512/"+c.isa, func(b *testing.B) {
			for b.Loop() {
				copy(row, scores)
				c.softmax(row)
			}
		})
		b.Run("silumul1024/"+c.isa, func(b *testing.B) {
			for b.Loop() {
				copy(g, gate)
				c.siluMul(g, up)
			}
		})
	}
}

// FuzzExpKernels feeds arbitrary float32 bit patterns (every NaN payload,
// subnormal and boundary the fuzzer finds) through every exp kernel that
// runs here and compares with runtime/kernels bit for bit.
func FuzzExpKernels(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0xd2, 0x42, 0x84, 0x3c, 1, 0, 0x80, 0x33}, float32(0))
	f.Add([]byte{0, 0, 0xae, 0xc2, 0, 0, 0xb0, 0x42, 0, 0, 0xc0, 0x7f}, float32(-87))
	f.Fuzz(func(t *testing.T, raw []byte, m float32) {
		x := make([]float32, len(raw)/4)
		for i := range x {
			x[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		if len(x) == 0 {
			return
		}
		for _, c := range expKernels {
			if _, ok := expRunsHere(t, c); !ok {
				continue
			}
			got, want := make([]float32, len(x)), make([]float32, len(x))
			c.expSub(got, x, m)
			for i, v := range x {
				want[i] = kernels.Expf(v - m)
			}
			if i, ok := firstDiff(got, want); !ok {
				t.Fatalf("%s expSub: exp(%g - %g) = %g, want %g", c.isa, x[i], m, got[i], want[i])
			}
			got, want = append(got[:0], x...), append(want[:0], x...)
			c.silu(got)
			kernels.SiLU(want)
			if i, ok := firstDiff(got, want); !ok {
				t.Fatalf("%s silu(%g) = %g, want %g", c.isa, x[i], got[i], want[i])
			}
			got, want = append(got[:0], x...), append(want[:0], x...)
			c.siluMul(got, x)
			kernels.SiLUMul(want, x)
			if i, ok := firstDiff(got, want); !ok {
				t.Fatalf("%s siluMul(%g) = %g, want %g", c.isa, x[i], got[i], want[i])
			}
			got, want = append(got[:0], x...), append(want[:0], x...)
			c.softmax(got)
			kernels.Softmax(want)
			if i, ok := firstDiff(got, want); !ok {
				t.Fatalf("%s softmax element %d = %g, want %g", c.isa, i, got[i], want[i])
			}
		}
	})
}

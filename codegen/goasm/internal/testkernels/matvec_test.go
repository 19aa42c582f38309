package testkernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/codegen/goasm/internal/kernelset"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// runsHere reports whether kernel c executes its assembly on this machine
// (its ISA's GOARCH, and the CPU has the features). Kernels for another
// architecture run their fallback; kernels whose features are missing
// would fault, so they are skipped.
func runsHere(t testing.TB, c matvecKernel) (asm, ok bool) { return isaRunsHere(t, c.goarch, c.isa) }

// isaRunsHere is runsHere for any kernel of ISA isa written for goarch.
func isaRunsHere(t testing.TB, goarch, isa string) (asm, ok bool) {
	if goarch != runtime.GOARCH {
		return false, true
	}
	name := "arm64-neon"
	if goarch == "amd64" {
		name = "amd64-" + isa
	}
	tg, err := targets.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return true, tg.Supported()
}

// randomMatrix returns an n x k tensor of dtype dt with random contents:
// f32 values over a wide range of magnitudes and signs, random half and
// bfloat16 bit patterns without NaN/Inf (tested separately), random
// q8_0/q4_0 codes with random signed scales.
func randomMatrix(rng *rand.Rand, dt tensor.DType, n, k int) *tensor.Tensor {
	t := &tensor.Tensor{Name: "w", DType: dt, Shape: []int{n, k}, Data: make([]byte, dt.DataBytes(n*k))}
	switch dt {
	case tensor.F32:
		for i := range n * k {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(randFloat(rng)))
		}
	case tensor.F16:
		for i := range n * k {
			h := uint16(rng.IntN(0x7c00)) | uint16(rng.IntN(2))<<15 // finite, subnormals included
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
		}
	case tensor.BF16:
		for i := range n * k {
			h := uint16(math.Float32bits(randFloat(rng)) >> 16)
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
		}
	default:
		for i := range t.Data {
			t.Data[i] = byte(rng.Uint32())
		}
		t.Scales = make([]float32, n*k/tensor.BlockSize)
		for i := range t.Scales {
			t.Scales[i] = randFloat(rng) / 64
		}
	}
	return t
}

// randFloat is a random float32 with a random sign and a magnitude from
// 2^-20 to 2^4, or zero one time in 32: sums of such terms round in
// almost every addition, so any change of order shows.
func randFloat(rng *rand.Rand) float32 {
	if rng.IntN(32) == 0 {
		return 0
	}
	v := float32(math.Ldexp(1+rng.Float64(), rng.IntN(24)-20))
	if rng.IntN(2) == 0 {
		v = -v
	}
	return v
}

func randVector(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = randFloat(rng)
	}
	return x
}

var dtypes = map[string]tensor.DType{"f32": tensor.F32, "f16": tensor.F16, "bf16": tensor.BF16, "q8_0": tensor.Q8_0, "q4_0": tensor.Q4_0}

// sameBits reports whether a and b are the same float32, NaNs being
// equal to each other whatever their payloads.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// checkKernel runs kernel c on w (the original matrix) and x, over all
// groups and over random group ranges, against runtime/kernels' MatVec.
func checkKernel(t *testing.T, c matvecKernel, w *tensor.Tensor, x []float32, rng *rand.Rand) {
	t.Helper()
	m, err := kernels.NewMatrix(w, "w", c.n, c.k)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, c.n)
	m.MatVec(want, x)
	p, err := goasm.Interleave(w, c.lanes)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != c.weightBytes || len(p.Scales) != c.scales {
		t.Fatalf("interleaved sizes %d bytes, %d scales; the kernel reads %d, %d", len(p.Data), len(p.Scales), c.weightBytes, c.scales)
	}
	for _, impl := range []struct {
		name string
		fn   func([]float32, []byte, []float32, []float32, int, int)
	}{{"kernel", c.fn}, {"fallback", c.fallback}} {
		got := make([]float32, c.n)
		impl.fn(got, p.Data, p.Scales, x, 0, c.groups)
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s: out[%d] = %g (%#08x), runtime/kernels gives %g (%#08x)", impl.name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
		// Group ranges write exactly their rows.
		for range 4 {
			g0 := rng.IntN(c.groups + 1)
			g1 := g0 + rng.IntN(c.groups-g0+1)
			const sentinel = 12345.5
			for i := range got {
				got[i] = sentinel
			}
			impl.fn(got, p.Data, p.Scales, x, g0, g1)
			for i := range got {
				inside := i >= g0*c.lanes && i < g1*c.lanes
				if inside && !sameBits(got[i], want[i]) || !inside && got[i] != sentinel {
					t.Fatalf("%s groups %d..%d: out[%d] = %g, want %g (inside %v)", impl.name, g0, g1, i, got[i], want[i], inside)
				}
			}
		}
	}
}

// TestMatVecBitIdentical runs every generated kernel (assembly where this
// machine runs it, else its fallback) and its fallback on random inputs
// and compares them with runtime/kernels' MatVec bit for bit.
func TestMatVecBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ran := map[string]int{}
	for _, c := range matvecKernels {
		if c.n*c.k > 1<<20 {
			continue // benchmark shapes
		}
		asm, ok := runsHere(t, c)
		if !ok {
			t.Logf("%s: this CPU lacks %s; not run", c.name, c.isa)
			continue
		}
		if asm {
			ran[c.isa]++
		}
		t.Run(c.name, func(t *testing.T) {
			for trial := range 3 {
				w := randomMatrix(rng, dtypes[c.dtype], c.n, c.k)
				x := randVector(rng, c.k)
				if trial == 2 {
					for i := range x {
						x[i] = 0 // all products zero: signs of zero
					}
					x[rng.IntN(len(x))] = -1
				}
				checkKernel(t, c, w, x, rng)
			}
		})
	}
	t.Logf("assembly kernels run per ISA on %s: %v", runtime.GOARCH, ran)
}

// TestMatVecHalfEveryPattern puts all 65536 f16 bit patterns (infinities,
// NaNs, subnormals, signed zeros) through each f16 kernel.
func TestMatVecHalfEveryPattern(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range matvecKernels {
		if c.dtype != "f16" || c.n != 64 || c.k != 64 {
			continue
		}
		if _, ok := runsHere(t, c); !ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			for base := 0; base < 1<<16; base += c.n * c.k {
				w := randomMatrix(rng, tensor.F16, c.n, c.k)
				for i := range c.n * c.k {
					binary.LittleEndian.PutUint16(w.Data[2*i:], uint16(base+i))
				}
				checkKernel(t, c, w, randVector(rng, c.k), rng)
			}
		})
	}
}

// TestKernelSetUpToDate checks that the committed generated files are what
// the generator produces now (run `go generate` here when it fails).
func TestKernelSetUpToDate(t *testing.T) {
	files, err := kernelset.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		have, err := os.ReadFile(f.Name)
		if err != nil || !bytes.Equal(have, f.Data) {
			t.Errorf("%s is not what codegen/goasm generates now; run go generate ./codegen/goasm/internal/testkernels", f.Name)
		}
	}
}

// BenchmarkMatVec times the generated kernels against runtime/kernels'
// MatVec on the same weights (single-threaded kernel, all groups in one
// call; MatVec splits large products across GOMAXPROCS goroutines, so run
// with -cpu 1 for a per-core comparison).
func BenchmarkMatVec(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range matvecKernels {
		if c.dtype != "f32" && c.dtype != "q8_0" || !(c.n == 4096 || c.n == 64 && c.k == 64 || c.n == 172 && c.k == 64 || c.n == 512) {
			continue
		}
		asm, ok := runsHere(b, c)
		if !asm || !ok {
			continue
		}
		w := randomMatrix(rng, dtypes[c.dtype], c.n, c.k)
		x := randVector(rng, c.k)
		p, err := goasm.Interleave(w, c.lanes)
		if err != nil {
			b.Fatal(err)
		}
		m, err := kernels.NewMatrix(w, "w", c.n, c.k)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]float32, c.n)
		bytes := int64(len(p.Data) + 4*len(p.Scales))
		b.Run(fmt.Sprintf("%s/generated", c.name), func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				c.fn(out, p.Data, p.Scales, x, 0, c.groups)
			}
		})
		b.Run(fmt.Sprintf("%s/reference", c.name), func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				m.MatVec(out, x)
			}
		})
	}
}

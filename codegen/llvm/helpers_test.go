package llvm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// requireLLC returns llc, or skips the test when it is not installed.
func requireLLC(t testing.TB) *LLC {
	t.Helper()
	l, err := FindLLC()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	return l
}

// simdTargets are the targets the LLVM backend builds for.
func simdTargets(t testing.TB) []targets.Target {
	t.Helper()
	var ts []targets.Target
	for _, name := range []string{"amd64-avx512", "amd64-avx2", "amd64-sse", "arm64-neon"} {
		tg, err := targets.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		// The table binds arm64 to the host's OS when it has a port;
		// the backend builds ELF, so pin Linux for the tests.
		tg.GOOS = "linux"
		ts = append(ts, tg)
	}
	return ts
}

// testKernels is the kernel mix the tests compile and run for a kernel
// set: every dtype, row counts that are not multiples of any vector
// width, a single row and a single column, K not a multiple of the
// quantization block for the float types, and the elementwise ops at
// lengths with and without a scalar tail.
func testKernels(set string) []Kernel {
	all := []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0}
	floats := []tensor.DType{tensor.F32, tensor.F16, tensor.BF16}
	shapes := []struct {
		n, k   int
		dtypes []tensor.DType
	}{
		{64, 64, all}, {172, 64, all}, {33, 96, all}, {7, 32, all}, {100, 256, all},
		{64, 172, floats}, {1, 5, floats}, {21, 1, floats},
	}
	var ks []Kernel
	for _, s := range shapes {
		for _, dt := range s.dtypes {
			ks = append(ks, MatVec{ISA: goasm.ISA(set), DType: dt, N: s.n, K: s.k})
		}
	}
	for _, n := range []int{64, 37, 3} {
		ks = append(ks, Elementwise{OpRMSNorm, set, n}, Elementwise{OpAdd, set, n}, Elementwise{OpMul, set, n})
	}
	return ks
}

// randFloat is a random float32 with a random sign and a magnitude from
// 2^-20 to 2^4, or zero one time in 32: sums of such terms round in
// almost every addition, so any change of operation order shows.
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

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = randFloat(rng)
	}
	return v
}

// randomMatrix is an n x k tensor of dtype dt with random contents: f32
// over a wide range of magnitudes, any finite half (subnormals and signed
// zeros included, and now and then an infinity), bfloat16 from random
// floats, random quantized codes with random signed scales.
func randomMatrix(rng *rand.Rand, dt tensor.DType, n, k int) *tensor.Tensor {
	t := &tensor.Tensor{Name: "w", DType: dt, Shape: []int{n, k}, Data: make([]byte, dt.DataBytes(n*k))}
	switch dt {
	case tensor.F32:
		for i := range n * k {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(randFloat(rng)))
		}
	case tensor.F16:
		for i := range n * k {
			h := uint16(rng.IntN(0x7c00)) | uint16(rng.IntN(2))<<15
			if rng.IntN(500) == 0 {
				h = 0x7c00 | uint16(rng.IntN(2))<<15 // ±Inf
			}
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
		}
	case tensor.BF16:
		for i := range n * k {
			binary.LittleEndian.PutUint16(t.Data[2*i:], uint16(math.Float32bits(randFloat(rng))>>16))
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

// reference is runtime/kernels' W x.
func reference(t testing.TB, w *tensor.Tensor, x []float32) []float32 {
	t.Helper()
	m, err := kernels.NewMatrix(w, w.Name, w.Shape[0], w.Shape[1])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, w.Shape[0])
	m.MatVec(out, x)
	return out
}

// interleave repacks w (N x K) into the kernels' layout with lanes rows
// per group, written here independently of codegen/goasm.Interleave from
// the layout MatVec documents: element (g*L+j, k) at [g][k][j]; q4_0
// bytes [g][k/2][j] with column k low and k+1 high; scales [g][k/32][j];
// padding rows zero.
func interleave(w *tensor.Tensor, lanes int) ([]byte, []float32) {
	n, k := w.Shape[0], w.Shape[1]
	groups := (n + lanes - 1) / lanes
	data := make([]byte, w.DType.DataBytes(groups*lanes*k))
	switch w.DType {
	case tensor.Q4_0:
		code := func(i int) byte {
			b, p := i/tensor.BlockSize, i%tensor.BlockSize
			by := w.Data[b*tensor.BlockSize/2+p%(tensor.BlockSize/2)]
			if p < tensor.BlockSize/2 {
				return by & 0x0f
			}
			return by >> 4
		}
		for r := range n {
			g, j := r/lanes, r%lanes
			for c := 0; c < k; c += 2 {
				data[(g*k/2+c/2)*lanes+j] = code(r*k+c) | code(r*k+c+1)<<4
			}
		}
	default:
		es := w.DType.DataBytes(1)
		for r := range n {
			g, j := r/lanes, r%lanes
			for c := range k {
				copy(data[((g*k+c)*lanes+j)*es:][:es], w.Data[(r*k+c)*es:][:es])
			}
		}
	}
	if !w.DType.Quantized() {
		return data, nil
	}
	nb := k / tensor.BlockSize
	scales := make([]float32, groups*lanes*nb)
	for r := range n {
		g, j := r/lanes, r%lanes
		for b := range nb {
			scales[(g*nb+b)*lanes+j] = w.Scales[r*nb+b]
		}
	}
	return data, scales
}

// haveCommand reports whether name is on the PATH.
func haveCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// hostIs reports whether this test process runs on goarch.
func hostIs(goarch string) bool { return runtime.GOARCH == goarch }

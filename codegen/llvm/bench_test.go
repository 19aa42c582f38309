package llvm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/tensor"
)

// benchKernels are the benchmark's matvecs for a kernel set: a
// stories15M-sized feed-forward matrix (768x288, in cache) and a
// 4096x4096 one (memory-bound), for each weight type.
func benchKernels(set string) []Kernel {
	var ks []Kernel
	for _, s := range [][2]int{{768, 288}, {4096, 4096}} {
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.Q8_0, tensor.Q4_0} {
			ks = append(ks, MatVec{ISA: goasm.ISA(set), DType: dt, N: s[0], K: s[1]})
		}
	}
	return ks
}

var (
	benchCasesMu sync.Mutex
	benchCases   = map[string]linkCase{}
)

// benchCase is a random case for matvec k, with the row-major weight the
// reference reads (made once per kernel).
func benchCase(b *testing.B, k MatVec) linkCase {
	benchCasesMu.Lock()
	defer benchCasesMu.Unlock()
	if c, ok := benchCases[k.Name()]; ok {
		return c
	}
	rng := rand.New(rand.NewPCG(uint64(k.N), uint64(k.K)))
	w := randomMatrix(rng, k.DType, k.N, k.K)
	data, scales := interleave(w, k.Lanes())
	c := linkCase{Set: k.kernelSet(), Kernel: k.Name(), Kind: "matvec", Groups: k.Groups(), W: data, S: scales,
		X: randFloats(rng, k.K), Want: make([]float32, k.N), DType: uint32(k.DType), N: k.N, K: k.K, Raw: w.Data, RawScales: w.Scales}
	benchCases[k.Name()] = c
	return c
}

// BenchmarkMatVec times each LLVM matvec (all groups, one goroutine)
// against runtime/kernels' Matrix.MatVec on the same weights (row-major,
// one goroutine), inside the harness executable: ns/op is the LLVM
// kernel's, ref-ns/op the reference's, speedup their ratio. Kernel sets
// the CPU lacks are skipped.
func BenchmarkMatVec(b *testing.B) {
	h := buildHarness(b)
	bin := h.binary(b, runtime.GOARCH)
	for _, tg := range simdTargets(b) {
		if tg.GOARCH != runtime.GOARCH || !tg.Supported() {
			continue
		}
		for _, k := range benchKernels(tg.Kernels) {
			k := k.(MatVec)
			b.Run(k.Name(), func(b *testing.B) {
				c := benchCase(b, k)
				out := runHarness(b, h, bin, nil, []string{"bench", strconv.Itoa(b.N)}, []linkCase{c})
				var name string
				var llvmNs, refNs float64
				if _, err := fmt.Sscan(strings.TrimSpace(out), &name, &llvmNs, &refNs); err != nil || name != k.Name() {
					b.Fatalf("harness output %q: %v", out, err)
				}
				n := float64(b.N)
				b.ReportMetric(llvmNs/n, "ns/op")
				b.ReportMetric(refNs/n, "ref-ns/op")
				b.ReportMetric(refNs/llvmNs, "speedup")
				b.ReportMetric(float64(k.WeightBytes())*n/llvmNs, "weight-GB/s")
			})
		}
	}
}

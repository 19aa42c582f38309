// Package kernelset is the fixed set of kernels that codegen/goasm's tests
// and benchmarks assemble and run (package testkernels holds them,
// generated; `go generate ./codegen/goasm/internal/testkernels` rewrites
// them and testkernels' tests check they are up to date).
package kernelset

import (
	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/tensor"
)

// Package is the name of the generated package.
const Package = "testkernels"

// shape is one matrix of the set and the dtypes it is generated for.
type shape struct {
	n, k   int
	dtypes []tensor.DType
}

var (
	all      = []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0}
	floats   = []tensor.DType{tensor.F32, tensor.F16, tensor.BF16}
	f32AndQ8 = []tensor.DType{tensor.F32, tensor.Q8_0}
)

// shapes: stories260K's matrices (dim 64, hidden 172, kv 32, vocab 512),
// rows and columns that are not multiples of any vector width, a single
// row, a single column, and the 4096x4096 benchmark.
var shapes = []shape{
	{64, 64, all},
	{32, 64, all},
	{172, 64, all},
	{64, 172, floats},
	{512, 64, f32AndQ8},
	{33, 96, all},
	{7, 32, all},
	{1, 5, floats},
	{21, 1, floats},
	{4096, 4096, f32AndQ8},
}

// Kernels is every kernel of the set, for every ISA with assembly.
func Kernels() []goasm.MatVec {
	var ks []goasm.MatVec
	for _, isa := range goasm.ISAs {
		for _, s := range shapes {
			for _, dt := range s.dtypes {
				ks = append(ks, goasm.MatVec{ISA: isa, DType: dt, N: s.n, K: s.k})
			}
		}
	}
	return ks
}

// attnShapes are attention kernels' (head dim, KV row, context):
// stories260K's and TinyStories-656K's, head sizes that split into vector
// widths (12 = 8+4) or need two register passes (128 on AVX2), and tiny
// contexts that are not whole blocks.
var attnShapes = [][3]int{{8, 32, 512}, {16, 64, 512}, {12, 24, 40}, {64, 128, 100}, {128, 256, 70}, {4, 4, 3}}

// AttnKernels is every attention kernel of the set, for every ISA that has
// them.
func AttnKernels() []goasm.Attn {
	var ks []goasm.Attn
	for _, isa := range goasm.ISAs {
		for _, s := range attnShapes {
			if a, ok := goasm.AttnFor(isa, s[0], s[1], s[2]); ok {
				ks = append(ks, a)
			}
		}
	}
	return ks
}

// Files generates the set's source files: the matvec kernels, every
// ISA's exp kernels and the attention kernels.
func Files() ([]goasm.File, error) {
	files, err := goasm.Generate(Package, Kernels())
	if err != nil {
		return nil, err
	}
	exp, err := goasm.ExpFiles(Package, goasm.ISAs)
	if err != nil {
		return nil, err
	}
	attn, err := goasm.AttnFiles(Package, AttnKernels())
	if err != nil {
		return nil, err
	}
	return append(append(files, exp...), attn...), nil
}

package llvm

import (
	"fmt"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// SymbolPrefix starts the object-file symbol of every kernel: kernel NAME
// is the C function omex_llvm_NAME.
const SymbolPrefix = "omex_llvm_"

// Kernel is one function of an emitted module: a matrix-vector product
// (MatVec) or an elementwise decode op (RMSNorm, Add, Mul). Name is the
// function the generated Go package defines for it.
type Kernel interface {
	// Name is the kernel's Go identifier, e.g. "matvec_avx2_f32_64x64".
	Name() string
	// kernelSet is the kernel set (targets.Kernels*) it is built for.
	kernelSet() string
	// check reports why the kernel cannot be emitted for m.
	check(m machine) error
	// define adds the kernel's function to mod.
	define(mod *Module, m machine, table *constTable)
	// args are the kernel's arguments as the trampoline passes them, in
	// order (the constant table pointer, always last, is not listed).
	args() []arg
	// goFunc is the Go source of NAME on the target's GOARCH: argument
	// checks, then a call of NAME_asm (the trampoline).
	goFunc() string
	// goFallback is the Go source of NAME on every other GOARCH.
	goFallback() string
}

// arg is one argument of a kernel's trampoline: its Go name and type,
// and whether it travels in a float register.
type arg struct {
	name, goType string
	float        bool
}

// MatVec is a matrix-vector kernel, out = W x, for a weight of N rows by K
// columns of type DType in the row-interleaved layout of kernel set
// Kernels (a targets.Kernels* name: "avx512", "avx2", "sse", "neon"). It
// is the same kernel as codegen/goasm's MatVec: same name, same Go
// signature, same weight layout (goasm.Interleave with the set's lanes:
// element (row g*L+j, column k) at [g][k][j]; q4_0 bytes [g][k/2][j] with
// column k in the low nibble and k+1 in the high one; scales [g][k/32][j]),
// so a package built from these kernels is a drop-in replacement:
//
//	func NAME(out []float32, w []byte, s []float32, x []float32, g0, g1 int)
//
// computes row groups g0..g1-1 (rows g0*L .. min(g1*L, N)-1). Its object
// symbol is
//
//	void omex_llvm_NAME(float *out, const uint8_t *w, const float *s,
//	                    const float *x, int64_t g0, int64_t g1, const void *consts)
type MatVec struct {
	Kernels string
	DType   tensor.DType
	N, K    int
}

// Name is the kernel's Go identifier, e.g. "matvec_avx2_q8_0_288x768"
// (goasm's naming).
func (k MatVec) Name() string {
	return fmt.Sprintf("matvec_%s_%v_%dx%d", k.Kernels, k.DType, k.N, k.K)
}

// Lanes is the number of rows per interleaved group for the kernel set.
func (k MatVec) Lanes() int { return lanesOf(k.Kernels) }

// Groups is ceil(N/Lanes); the last group is padded with zero rows when
// N is not a multiple of Lanes. It is 0 for an unknown kernel set.
func (k MatVec) Groups() int {
	l := k.Lanes()
	if l == 0 {
		return 0
	}
	return (k.N + l - 1) / l
}

// elemBits is the storage size of one weight element.
func (k MatVec) elemBits() int {
	switch k.DType {
	case tensor.F32:
		return 32
	case tensor.F16, tensor.BF16:
		return 16
	case tensor.Q8_0:
		return 8
	}
	return 4
}

// GroupBytes is the size of one group's interleaved weight data.
func (k MatVec) GroupBytes() int { return k.K * k.Lanes() * k.elemBits() / 8 }

// GroupScales is the number of scales of one group (0 unquantized).
func (k MatVec) GroupScales() int {
	if !k.DType.Quantized() {
		return 0
	}
	return k.K / tensor.BlockSize * k.Lanes()
}

// WeightBytes is the length of the interleaved weight data.
func (k MatVec) WeightBytes() int { return k.Groups() * k.GroupBytes() }

// ScaleCount is the number of interleaved scales (0 unquantized).
func (k MatVec) ScaleCount() int { return k.Groups() * k.GroupScales() }

func (k MatVec) kernelSet() string { return k.Kernels }

// lanesOf is the float32 lanes of a kernel set's vectors (0 if unknown).
func lanesOf(set string) int {
	switch set {
	case "avx512":
		return 16
	case "avx2":
		return 8
	case "sse", "neon":
		return 4
	}
	return 0
}

func (k MatVec) check(m machine) error {
	if k.Kernels != m.target.Kernels {
		return omexerr.Inputf("input.kernel_set", "kernel %s is for kernel set %q; target %s uses %q", k.Name(), k.Kernels, m.target.Name, m.target.Kernels)
	}
	if !k.DType.Valid() {
		return omexerr.Inputf("input.kernel_dtype", "matvec: unknown dtype %v", k.DType)
	}
	if k.N < 1 || k.K < 1 || k.N > math.MaxInt32 || k.K > math.MaxInt32 {
		return omexerr.Inputf("input.kernel_shape", "matvec: shape %dx%d must have at least one row and column", k.N, k.K)
	}
	if k.DType.Quantized() && k.K%tensor.BlockSize != 0 {
		return omexerr.Inputf("input.kernel_shape", "matvec: %v needs K a multiple of %d, got %d", k.DType, tensor.BlockSize, k.K)
	}
	// N and K fit 31 bits, so the product cannot overflow.
	if int64(k.N)*int64(k.K) > 1<<36 {
		return omexerr.Inputf("input.kernel_shape", "matvec: shape %dx%d %v is too large for one kernel", k.N, k.K, k.DType)
	}
	return nil
}

func (k MatVec) args() []arg {
	return []arg{{"out", "*float32", false}, {"w", "*byte", false}, {"s", "*float32", false},
		{"x", "*float32", false}, {"g0", "int", false}, {"g1", "int", false}}
}

// Elementwise is a decode op over vectors of N float32 whose result is
// bit for bit runtime/kernels' function of the same name:
//
//   - RMSNorm: func NAME(out, x, w []float32, eps float32), out may be x;
//     kernels.RMSNorm (the sum of squares stays one sequential chain, as
//     the reference's; the scaling is vectorised);
//   - Add, Mul: func NAME(dst, src []float32); kernels.Add, kernels.Mul.
//
// SiLU·mul is not here: it needs exp, and Go's math.Exp (assembly, using
// FMA where the CPU has it) cannot be reproduced bit for bit without
// porting it; it stays in Go.
type Elementwise struct {
	Op      string // "rmsnorm", "add" or "mul"
	Kernels string // kernel set, as MatVec's
	N       int
}

// The elementwise ops.
const (
	OpRMSNorm = "rmsnorm"
	OpAdd     = "add"
	OpMul     = "mul"
)

// Name is the kernel's Go identifier, e.g. "rmsnorm_avx2_288".
func (k Elementwise) Name() string { return fmt.Sprintf("%s_%s_%d", k.Op, k.Kernels, k.N) }

func (k Elementwise) kernelSet() string { return k.Kernels }

func (k Elementwise) check(m machine) error {
	if k.Kernels != m.target.Kernels {
		return omexerr.Inputf("input.kernel_set", "kernel %s is for kernel set %q; target %s uses %q", k.Name(), k.Kernels, m.target.Name, m.target.Kernels)
	}
	switch k.Op {
	case OpRMSNorm, OpAdd, OpMul:
	default:
		return omexerr.Inputf("input.kernel_op", "unknown elementwise kernel %q; known: rmsnorm, add, mul", k.Op)
	}
	// N < 2^24 keeps float32(N), rmsnorm's divisor, exact as in Go.
	if k.N < 1 || k.N >= 1<<24 {
		return omexerr.Inputf("input.kernel_shape", "%s: length %d must be 1..%d", k.Op, k.N, 1<<24-1)
	}
	return nil
}

func (k Elementwise) args() []arg {
	if k.Op == OpRMSNorm {
		return []arg{{"out", "*float32", false}, {"x", "*float32", false}, {"w", "*float32", false}, {"eps", "float32", true}}
	}
	return []arg{{"dst", "*float32", false}, {"src", "*float32", false}}
}

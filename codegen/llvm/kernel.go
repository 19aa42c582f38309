package llvm

import (
	"fmt"
	"slices"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/omexerr"
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

// MatVec is a matrix-vector kernel, out = W x: goasm's MatVec (the kernel
// set is its ISA: "avx512", "avx2", "sse", "neon"), compiled by LLVM.
// Its name, Go signature and weight layout (goasm.Interleave with the
// set's lanes) are goasm's, defined there once, so a package built from
// these kernels is a drop-in replacement for goasm's matvec files. Its
// object symbol is
//
//	void omex_llvm_NAME(float *out, const uint8_t *w, const float *s,
//	                    const float *x, int64_t g0, int64_t g1, const void *consts)
type MatVec goasm.MatVec

// asm is k as goasm's kernel, which defines its name and layout.
func (k MatVec) asm() goasm.MatVec { return goasm.MatVec(k) }

// Name is the kernel's Go identifier, e.g. "matvec_avx2_q8_0_288x768"
// (goasm's naming).
func (k MatVec) Name() string { return k.asm().Name() }

// Lanes is the number of rows per interleaved group for the kernel set.
func (k MatVec) Lanes() int { return k.asm().Lanes() }

// Groups is goasm's ceil(N/Lanes), or 0 for a kernel set without vectors
// (LLVM builds none; goasm counts one row per group there).
func (k MatVec) Groups() int {
	if !slices.Contains(goasm.ISAs, k.ISA) {
		return 0
	}
	return k.asm().Groups()
}

// group is the kernel of one row group: Lanes rows of k.
func (k MatVec) group() goasm.MatVec {
	g := k.asm()
	g.N = g.Lanes()
	return g
}

// GroupBytes is the size of one group's interleaved weight data.
func (k MatVec) GroupBytes() int { return k.group().WeightBytes() }

// GroupScales is the number of scales of one group (0 unquantized).
func (k MatVec) GroupScales() int { return k.group().ScaleCount() }

// WeightBytes is the length of the interleaved weight data.
func (k MatVec) WeightBytes() int { return k.asm().WeightBytes() }

// ScaleCount is the number of interleaved scales (0 unquantized).
func (k MatVec) ScaleCount() int { return k.asm().ScaleCount() }

func (k MatVec) kernelSet() string { return string(k.ISA) }

// check adds to goasm's checks the set of m's target and LLVM's own size
// limit.
func (k MatVec) check(m machine) error {
	if k.kernelSet() != m.target.Kernels {
		return omexerr.Inputf("input.kernel_set", "kernel %s is for kernel set %q; target %s uses %q", k.Name(), k.ISA, m.target.Name, m.target.Kernels)
	}
	if err := k.asm().Check(); err != nil {
		return err
	}
	// goasm's Check bounded N and K to 31 bits, so the product cannot
	// overflow.
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

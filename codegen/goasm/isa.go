package goasm

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
)

// ISA is a kernel set: the instruction set the generated kernels use. Its
// values are targets.Target.Kernels, so a target picks its ISA directly.
type ISA string

// The kernel sets.
const (
	AVX512  ISA = targets.KernelsAVX512 // amd64, 512-bit ZMM, 16 float32 lanes
	AVX2    ISA = targets.KernelsAVX2   // amd64, 256-bit YMM (with F16C), 8 lanes
	SSE     ISA = targets.KernelsSSE    // amd64, 128-bit XMM, SSE2 only, 4 lanes
	NEON    ISA = targets.KernelsNEON   // arm64, 128-bit NEON, 4 lanes
	Generic ISA = targets.KernelsGeneric
)

// ISAs lists the kernel sets that have assembly, in table order.
var ISAs = []ISA{AVX512, AVX2, SSE, NEON}

// ForTarget returns the kernel set of a target description.
func ForTarget(t targets.Target) (ISA, error) { return ParseISA(t.Kernels) }

// ParseISA checks a kernel-set name.
func ParseISA(s string) (ISA, error) {
	switch i := ISA(s); i {
	case AVX512, AVX2, SSE, NEON, Generic:
		return i, nil
	}
	return "", omexerr.Inputf("input.unknown_kernels", "unknown kernel set %q; known: avx512, avx2, sse, neon, generic", s)
}

// Lanes is the number of float32 lanes of the ISA's vectors, which is also
// the number of weight rows interleaved per group. The generic set has no
// vectors: one row per group (its targets keep weights as stored, see
// passes' layouts, and run the reference kernels).
func (i ISA) Lanes() int {
	switch i {
	case AVX512:
		return 16
	case AVX2:
		return 8
	case SSE, NEON:
		return 4
	}
	return 1
}

// GOARCH is the Go architecture the ISA's assembly is written for ("" for
// the generic set, which has none).
func (i ISA) GOARCH() string {
	switch i {
	case AVX512, AVX2, SSE:
		return "amd64"
	case NEON:
		return "arm64"
	}
	return ""
}

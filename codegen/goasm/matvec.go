package goasm

import (
	"fmt"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// MatVec describes one generated matrix-vector kernel: out = W x for a
// weight of N rows (outputs) by K columns (inputs) of type DType, repacked
// for ISA by Interleave. N, K and the dtype are compile-time constants of
// the generated code.
//
// Every generated kernel has the Go signature
//
//	func NAME(out []float32, w []byte, s []float32, x []float32, g0, g1 int)
//
// and computes the row groups g0..g1-1 (rows g0*L .. min(g1*L, N)-1; L =
// ISA.Lanes()), writing only those outputs, so a caller can split one
// product across goroutines by group ranges. w is the interleaved weight
// data, s its interleaved scales (quantized types; nil otherwise), x the
// K inputs. Slices that are too short, or a range outside 0..Groups(),
// panic (the caller sizes them from the same constants).
type MatVec struct {
	ISA   ISA
	DType tensor.DType
	N, K  int
}

// maxPacked bounds a kernel's interleaved weight bytes: the assembly
// addresses groups by 32-bit displacements from one base, so a block of
// groups in flight must stay far below 2 GiB.
const maxPacked = 1 << 30

// Check reports why m cannot be generated: an unknown ISA or dtype, empty
// or absurd dimensions, or a quantized K that is not a whole number of
// blocks (the IR requires it; the kernels dequantize block by block).
func (m MatVec) Check() error {
	if _, err := ParseISA(string(m.ISA)); err != nil {
		return err
	}
	if !m.DType.Valid() {
		return omexerr.Inputf("input.kernel_dtype", "matvec: unknown dtype %v", m.DType)
	}
	if m.N < 1 || m.K < 1 || m.N > math.MaxInt32 || m.K > math.MaxInt32 {
		return omexerr.Inputf("input.kernel_shape", "matvec: shape %dx%d must have at least one row and column", m.N, m.K)
	}
	if m.DType.Quantized() && m.K%tensor.BlockSize != 0 {
		return omexerr.Inputf("input.kernel_shape", "matvec: %v needs K a multiple of %d, got %d", m.DType, tensor.BlockSize, m.K)
	}
	if m.groupBytes() > maxPacked/16 || m.WeightBytes() > 1<<40 {
		return omexerr.Inputf("input.kernel_shape", "matvec: shape %dx%d %v is too large for one kernel", m.N, m.K, m.DType)
	}
	return nil
}

// Name is the kernel's Go identifier, e.g. "matvec_avx2_q8_0_288x768".
func (m MatVec) Name() string {
	return fmt.Sprintf("matvec_%s_%v_%dx%d", m.ISA, m.DType, m.N, m.K)
}

// Lanes is the number of rows per interleaved group.
func (m MatVec) Lanes() int { return m.ISA.Lanes() }

// Groups is the number of row groups, ceil(N/Lanes); the last one is
// padded with zero rows when N is not a multiple of Lanes.
func (m MatVec) Groups() int { return (m.N + m.Lanes() - 1) / m.Lanes() }

// fullGroups is the number of groups whose rows are all real.
func (m MatVec) fullGroups() int { return m.N / m.Lanes() }

// elemBits is the storage size of one weight element.
func (m MatVec) elemBits() int {
	switch m.DType {
	case tensor.F32:
		return 32
	case tensor.F16, tensor.BF16:
		return 16
	case tensor.Q8_0:
		return 8
	}
	return 4
}

// groupBytes is the size of one group's interleaved weight data.
func (m MatVec) groupBytes() int { return m.K * m.Lanes() * m.elemBits() / 8 }

// groupScales is the number of scales of one group (0 unquantized).
func (m MatVec) groupScales() int {
	if !m.DType.Quantized() {
		return 0
	}
	return m.K / tensor.BlockSize * m.Lanes()
}

// WeightBytes is the length of the interleaved weight data the kernel
// reads: Groups()*K*Lanes elements.
func (m MatVec) WeightBytes() int { return m.Groups() * m.groupBytes() }

// ScaleCount is the number of interleaved scales the kernel reads
// (quantized types; 0 otherwise).
func (m MatVec) ScaleCount() int { return m.Groups() * m.groupScales() }

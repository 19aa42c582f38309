// Package tensor holds the in-memory form of a weight tensor that importers,
// the OMEX package reader/writer and the runtime pass between each other.
// It imports nothing of ours so every layer can use it.
package tensor

import "fmt"

// DType is a weight element type. The values are the on-disk codes of the
// OMEX weight record (docs/FORMAT.md), so they must never change.
type DType uint32

// The element types. Q8_0 and Q4_0 are block-quantized with one float32
// scale per BlockSize consecutive elements of a row (symmetric; Q4_0 stores
// nibbles with an implied zero point of 8).
const (
	F32  DType = 0
	F16  DType = 1
	BF16 DType = 2
	Q8_0 DType = 3 // on-disk name INT8
	Q4_0 DType = 4 // on-disk name INT4
)

// BlockSize is the number of elements that share one scale in Q8_0 and Q4_0.
const BlockSize = 32

// String returns the dtype's conventional name (f32, f16, bf16, q8_0, q4_0).
func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	case Q8_0:
		return "q8_0"
	case Q4_0:
		return "q4_0"
	}
	return fmt.Sprintf("dtype(%d)", uint32(d))
}

// Valid reports whether d is one of the known element types.
func (d DType) Valid() bool { return d <= Q4_0 }

// Quantized reports whether d carries per-block scales.
func (d DType) Quantized() bool { return d == Q8_0 || d == Q4_0 }

// DataBytes is the size in bytes of the element data of n elements of type d
// (scales not included). n must be a multiple of BlockSize for quantized types.
func (d DType) DataBytes(n int) int { return int(d.DataBytes64(int64(n))) }

// DataBytes64 is DataBytes in int64, for sizes read from files that must
// not overflow an int on 32-bit platforms.
func (d DType) DataBytes64(n int64) int64 {
	switch d {
	case F32:
		return 4 * n
	case F16, BF16:
		return 2 * n
	case Q8_0:
		return n
	case Q4_0:
		return n / 2
	}
	return 0
}

// Tensor is one named weight. Data holds the elements little-endian:
// F32/F16/BF16 as their IEEE/bfloat bit patterns; Q8_0 as one int8 per
// element; Q4_0 as BlockSize/2 bytes per block where byte j holds element j in
// its low nibble and element j+16 in its high nibble (value = (q-8)*scale),
// the GGUF order. Scales holds one float32 per block for quantized types.
// Shape is row-major, outermost first: a linear layer's weight is [out, in].
type Tensor struct {
	Name   string
	DType  DType
	Shape  []int
	Data   []byte
	Scales []float32
}

// Elements returns the product of the shape.
func (t *Tensor) Elements() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Info describes a tensor without its data.
type Info struct {
	Name  string
	DType DType
	Shape []int
}

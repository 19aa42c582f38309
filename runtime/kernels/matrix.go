package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Matrix is a weight of Rows x Cols kept in its stored form: F32 as a
// []float32 view of the tensor's bytes (used in place, never copied),
// everything else as raw bytes that are dequantized element by element as
// MatVec, MatMul or Row read them. Dequantization is exact, so every dtype
// computes the same float32 sums as an F32 matrix holding its values.
type Matrix struct {
	name       string
	dtype      tensor.DType
	rows, cols int
	f32        []float32 // F32 only
	raw        []byte    // F16, BF16, Q8_0, Q4_0
	scales     []float32 // Q8_0, Q4_0: one per BlockSize elements of the flattened tensor
}

// NewMatrix checks that t has exactly the shape [rows, cols], a known dtype
// and data (and scales) of the right length, and wraps it without copying.
// Quantized blocks run over the flattened tensor, so cols need not be a
// multiple of the block size. Problems are omexerr model errors naming the
// tensor.
func NewMatrix(t *tensor.Tensor, name string, rows, cols int) (*Matrix, error) {
	return newMatrix(t, name, []int{rows, cols})
}

// Vector returns a 1-D weight of n elements (a norm scale or a bias) as
// float32: the tensor's own memory for F32, a dequantized copy for other
// types (they are tiny). It checks t as NewMatrix does.
func Vector(t *tensor.Tensor, name string, n int) ([]float32, error) {
	m, err := newMatrix(t, name, []int{n})
	if err != nil {
		return nil, err
	}
	if m.f32 != nil {
		return m.f32, nil
	}
	out := make([]float32, n)
	m.flat(0, out)
	return out, nil
}

// newMatrix checks t against shape (one or two dims) and wraps it; a 1-D
// shape n becomes n rows of one column.
func newMatrix(t *tensor.Tensor, name string, shape []int) (*Matrix, error) {
	if t == nil {
		return nil, omexerr.Modelf("model.missing_tensor", "tensor %s is missing", name).WithTensor(name)
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, omexerr.Modelf("model.tensor_shape", "tensor %s has shape %v, expected %v", name, t.Shape, shape).WithTensor(name)
	}
	if !t.DType.Valid() {
		return nil, omexerr.Modelf("model.tensor_dtype", "tensor %s has unknown dtype %v, expected one of f32, f16, bf16, q8_0, q4_0", name, t.DType).WithTensor(name)
	}
	n := 1
	for _, s := range shape {
		// Shapes may come from parsed text (an IR module): refuse ones
		// whose element count is negative or whose byte size overflows.
		if s < 0 || (s > 0 && n > math.MaxInt/4/s) {
			return nil, omexerr.Modelf("model.tensor_shape", "tensor %s has an impossible shape %v", name, shape).WithTensor(name)
		}
		n *= s
	}
	if t.DType.Quantized() && n%tensor.BlockSize != 0 {
		return nil, omexerr.Modelf("model.tensor_blocks", "tensor %s is %v with %d elements, not a multiple of the block size %d", name, t.DType, n, tensor.BlockSize).WithTensor(name)
	}
	if want := t.DType.DataBytes(n); len(t.Data) != want {
		return nil, omexerr.Modelf("model.tensor_size", "tensor %s (%v %v) has %d data bytes, expected %d", name, t.DType, shape, len(t.Data), want).WithTensor(name)
	}
	wantScales := 0
	if t.DType.Quantized() {
		wantScales = n / tensor.BlockSize
	}
	if len(t.Scales) != wantScales {
		return nil, omexerr.Modelf("model.tensor_scales", "tensor %s (%v) has %d scales, expected %d", name, t.DType, len(t.Scales), wantScales).WithTensor(name)
	}
	m := &Matrix{name: name, dtype: t.DType, rows: n, cols: 1, scales: t.Scales}
	if len(shape) == 2 {
		m.rows, m.cols = shape[0], shape[1]
	}
	if t.DType == tensor.F32 {
		m.f32 = AsFloat32(t.Data)
	} else {
		m.raw = t.Data
	}
	return m, nil
}

// Name is the tensor name the matrix was built with (for messages).
func (m *Matrix) Name() string { return m.name }

// Rows is the number of rows (a linear layer's outputs).
func (m *Matrix) Rows() int { return m.rows }

// Cols is the number of columns (a linear layer's inputs).
func (m *Matrix) Cols() int { return m.cols }

// DType is the stored element type.
func (m *Matrix) DType() tensor.DType { return m.dtype }

// Row writes row r, dequantized, to dst (len Cols): an embedding lookup.
func (m *Matrix) Row(r int, dst []float32) { m.flat(r*m.cols, dst[:m.cols]) }

// flat dequantizes len(dst) elements of the flattened tensor starting at
// element start.
func (m *Matrix) flat(start int, dst []float32) {
	switch m.dtype {
	case tensor.F32:
		copy(dst, m.f32[start:start+len(dst)])
	case tensor.F16:
		tab := f16Table()
		for j := range dst {
			dst[j] = tab[binary.LittleEndian.Uint16(m.raw[2*(start+j):])]
		}
	case tensor.BF16:
		for j := range dst {
			dst[j] = BF16ToF32(binary.LittleEndian.Uint16(m.raw[2*(start+j):]))
		}
	case tensor.Q8_0:
		for j := range dst {
			i := start + j
			dst[j] = float32(int8(m.raw[i])) * m.scales[i/tensor.BlockSize]
		}
	case tensor.Q4_0:
		for j := range dst {
			dst[j] = q4Value(m.raw, m.scales, start+j)
		}
	default:
		panic(fmt.Sprintf("kernels: unchecked dtype %v", m.dtype)) // newMatrix rejects these
	}
}

// q4Value dequantizes element i of a Q4_0 tensor: block b = i/32 holds 16
// bytes; byte j has element j in its low nibble and j+16 in its high one.
func q4Value(raw []byte, scales []float32, i int) float32 {
	b, p := i/tensor.BlockSize, i%tensor.BlockSize
	by := raw[b*tensor.BlockSize/2+p%(tensor.BlockSize/2)]
	q := by & 0x0f
	if p >= tensor.BlockSize/2 {
		q = by >> 4
	}
	return float32(int(q)-8) * scales[b]
}

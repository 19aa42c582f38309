package model

import (
	"encoding/binary"
	"fmt"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// matrix is a weight of rows x cols kept in its stored form: F32 as a
// []float32 view of the tensor's bytes, everything else as raw bytes that
// are dequantized element by element as a matvec or row lookup reads them.
type matrix struct {
	name       string
	dtype      tensor.DType
	rows, cols int
	f32        []float32 // F32 only
	raw        []byte    // F16, BF16, Q8_0, Q4_0
	scales     []float32 // Q8_0, Q4_0: one per BlockSize elements of the flattened tensor
}

// newMatrix checks that t has exactly the given shape, a known dtype and
// data (and scales) of the right length, and wraps it without copying.
func newMatrix(t *tensor.Tensor, name string, shape ...int) (*matrix, error) {
	if t == nil {
		return nil, omexerr.Modelf("model.missing_tensor", "tensor %s is missing", name).WithTensor(name)
	}
	if !equalShape(t.Shape, shape) {
		return nil, omexerr.Modelf("model.tensor_shape", "tensor %s has shape %v, expected %v", name, t.Shape, shape).WithTensor(name)
	}
	if !t.DType.Valid() {
		return nil, omexerr.Modelf("model.tensor_dtype", "tensor %s has unknown dtype %v, expected one of f32, f16, bf16, q8_0, q4_0", name, t.DType).WithTensor(name)
	}
	n := 1
	for _, s := range shape {
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
	m := &matrix{name: name, dtype: t.DType, rows: n, cols: 1, scales: t.Scales}
	if len(shape) == 2 {
		m.rows, m.cols = shape[0], shape[1]
	}
	if t.DType == tensor.F32 {
		m.f32 = asFloat32(t.Data)
	} else {
		m.raw = t.Data
	}
	return m, nil
}

// vector returns a 1-D weight (a norm scale or a bias) as float32: the
// tensor's own memory for F32, a dequantized copy for other types (they are
// tiny).
func vector(t *tensor.Tensor, name string, n int) ([]float32, error) {
	m, err := newMatrix(t, name, n)
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

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// row writes row r, dequantized, to dst (len cols).
func (m *matrix) row(r int, dst []float32) { m.flat(r*m.cols, dst) }

// flat dequantizes len(dst) elements of the flattened tensor starting at
// element start.
func (m *matrix) flat(start int, dst []float32) {
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
			dst[j] = bf16ToF32(binary.LittleEndian.Uint16(m.raw[2*(start+j):]))
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
		panic(fmt.Sprintf("model: unchecked dtype %v", m.dtype)) // newMatrix rejects these
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

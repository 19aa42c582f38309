package kernels

import (
	"testing"

	"github.com/omex-dev/omex/tensor"
)

// FuzzNewMatrix gives NewMatrix tensors whose dtype, shape, data length
// and scale count the fuzzer picks, then uses whatever it accepts: every
// row, a MatVec and a two-row MatMul. Whatever the input, NewMatrix must
// return an error or a matrix whose kernels stay in bounds.
func FuzzNewMatrix(f *testing.F) {
	f.Add(uint8(0), int16(2), int16(3), int16(24), int16(0), int16(2), int16(3))
	f.Add(uint8(3), int16(8), int16(172), int16(1376), int16(43), int16(8), int16(172))
	f.Add(uint8(4), int16(2), int16(16), int16(16), int16(1), int16(2), int16(16))
	f.Add(uint8(1), int16(-1), int16(-2), int16(4), int16(0), int16(-1), int16(-2))
	f.Fuzz(func(t *testing.T, dt uint8, shape0, shape1, dataLen, nScales, rows, cols int16) {
		if dataLen < 0 || dataLen > 8192 || nScales < 0 || nScales > 1024 {
			return
		}
		tn := &tensor.Tensor{Name: "w", DType: tensor.DType(dt % 7), Shape: []int{int(shape0), int(shape1)},
			Data: make([]byte, dataLen), Scales: make([]float32, nScales)}
		for i := range tn.Data {
			tn.Data[i] = byte(i * 31)
		}
		for i := range tn.Scales {
			tn.Scales[i] = float32(i) + 0.5
		}
		m, err := NewMatrix(tn, "w", int(rows), int(cols))
		if err != nil {
			return
		}
		if m.Rows() != int(rows) || m.Cols() != int(cols) {
			t.Fatalf("accepted as %dx%d, asked %dx%d", m.Rows(), m.Cols(), rows, cols)
		}
		x := make([]float32, 2*m.Cols())
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		row := make([]float32, m.Cols())
		for r := range m.Rows() {
			m.Row(r, row)
		}
		out := make([]float32, 2*m.Rows())
		m.MatVec(out, x)
		m.MatMul(out, x, 2)
	})
}

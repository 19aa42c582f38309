package goasm

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// Interleave repacks a weight matrix t of shape [N, K] into the
// row-interleaved layout the generated kernels read with lanes rows per
// group: element (row g*lanes+j, column k) goes to [g][k][j], and the rows
// of the last group beyond N are zeros. The result has shape
// [ceil(N/lanes)*lanes, K] and the same dtype; t is not modified.
//
//   - f32, f16, bf16, q8_0: one element of the stored type per [g][k][j].
//   - q4_0: columns pair up: byte [g][k/2][j] holds the 4-bit code of
//     column k (k even) in its low nibble and of column k+1 in its high
//     nibble, so one load gives two columns of every lane.
//   - q8_0, q4_0 scales: [g][b][j] is the scale of block b (columns
//     32b..32b+31) of row g*lanes+j; 0 for padding rows.
//
// lanes = 1 keeps the rows in order (a copy; for q4_0 the bytes still pair
// adjacent columns, unlike tensor.Tensor's j, j+16). A tensor whose shape,
// data or scales do not match, or a quantized one whose K is not a multiple
// of 32, is a model error naming the tensor.
func Interleave(t *tensor.Tensor, lanes int) (*tensor.Tensor, error) {
	if t == nil || len(t.Shape) != 2 {
		name := "<nil>"
		var shape []int
		if t != nil {
			name, shape = t.Name, t.Shape
		}
		return nil, omexerr.Modelf("model.tensor_shape", "tensor %s has shape %v; interleaving needs a matrix [out, in]", name, shape).WithTensor(name)
	}
	if lanes < 1 || lanes > 64 {
		return nil, omexerr.Inputf("input.lanes", "interleave: %d lanes; want 1..64", lanes)
	}
	n, k := t.Shape[0], t.Shape[1]
	// NewMatrix checks dtype, data and scale lengths against the shape.
	if _, err := kernels.NewMatrix(t, t.Name, n, k); err != nil {
		return nil, err
	}
	if t.DType.Quantized() && k%tensor.BlockSize != 0 {
		return nil, omexerr.Modelf("model.tensor_blocks", "tensor %s is %v [%d,%d]; interleaving needs whole blocks per row (K a multiple of %d)", t.Name, t.DType, n, k, tensor.BlockSize).WithTensor(t.Name)
	}
	groups := (n + lanes - 1) / lanes
	rows := groups * lanes
	out := &tensor.Tensor{Name: t.Name, DType: t.DType, Shape: []int{rows, k}, Data: make([]byte, t.DType.DataBytes(rows*k))}
	switch t.DType {
	case tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0:
		es := t.DType.DataBytes(1)
		for r := range n {
			g, j := r/lanes, r%lanes
			for c := range k {
				src := (r*k + c) * es
				dst := ((g*k+c)*lanes + j) * es
				copy(out.Data[dst:dst+es], t.Data[src:src+es])
			}
		}
	case tensor.Q4_0:
		for r := range n {
			g, j := r/lanes, r%lanes
			for c := 0; c < k; c += 2 {
				lo, hi := q4Code(t.Data, r*k+c), q4Code(t.Data, r*k+c+1)
				out.Data[(g*k/2+c/2)*lanes+j] = lo | hi<<4
			}
		}
	}
	if t.DType.Quantized() {
		nb := k / tensor.BlockSize
		out.Scales = make([]float32, rows*nb)
		for r := range n {
			g, j := r/lanes, r%lanes
			for b := range nb {
				out.Scales[(g*nb+b)*lanes+j] = t.Scales[r*nb+b]
			}
		}
	}
	return out, nil
}

// q4Code is the 4-bit code (0..15) of element i of Q4_0 data: block i/32
// holds 16 bytes, byte j has element j in its low nibble and j+16 in its
// high one (tensor.Tensor's layout).
func q4Code(data []byte, i int) byte {
	b, p := i/tensor.BlockSize, i%tensor.BlockSize
	by := data[b*tensor.BlockSize/2+p%(tensor.BlockSize/2)]
	if p < tensor.BlockSize/2 {
		return by & 0x0f
	}
	return by >> 4
}

// InterleavedRow writes row r of an interleaved weight p (Interleave's
// result with the same lanes), dequantized exactly as runtime/kernels
// dequantizes, into dst (len K): the embedding lookup on a table kept in
// the kernels' layout. r must be below the original row count.
func InterleavedRow(p *tensor.Tensor, lanes, r int, dst []float32) {
	k := p.Shape[1]
	g, j := r/lanes, r%lanes
	dst = dst[:k]
	switch p.DType {
	case tensor.F32:
		w := kernels.AsFloat32(p.Data)
		for c := range dst {
			dst[c] = w[(g*k+c)*lanes+j]
		}
	case tensor.F16:
		for c := range dst {
			i := 2 * ((g*k+c)*lanes + j)
			dst[c] = kernels.F16ToF32(uint16(p.Data[i]) | uint16(p.Data[i+1])<<8)
		}
	case tensor.BF16:
		for c := range dst {
			i := 2 * ((g*k+c)*lanes + j)
			dst[c] = kernels.BF16ToF32(uint16(p.Data[i]) | uint16(p.Data[i+1])<<8)
		}
	case tensor.Q8_0:
		nb := k / tensor.BlockSize
		for c := range dst {
			s := p.Scales[(g*nb+c/tensor.BlockSize)*lanes+j]
			dst[c] = float32(int8(p.Data[(g*k+c)*lanes+j])) * s
		}
	case tensor.Q4_0:
		nb := k / tensor.BlockSize
		for c := range dst {
			s := p.Scales[(g*nb+c/tensor.BlockSize)*lanes+j]
			by := p.Data[(g*k/2+c/2)*lanes+j]
			q := by & 0x0f
			if c%2 == 1 {
				q = by >> 4
			}
			dst[c] = float32(int(q)-8) * s
		}
	}
}

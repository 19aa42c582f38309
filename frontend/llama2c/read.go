package llama2c

import (
	"encoding/binary"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// ReadTensor reads one tensor from the file. fp32 tensors come back as F32;
// int8 tensors as Q8_0 (Data the int8 values, one scale per 32-element
// block) when their groups fit Q8_0's row blocks, else as F32 holding the
// dequantized values q*scale exactly as runq.c computes them.
func (c *Checkpoint) ReadTensor(name string) (*tensor.Tensor, error) {
	e, ok := c.byName[name]
	if !ok {
		return nil, omexerr.Modelf("model.tensor_missing", "llama2.c checkpoint has no tensor %q", name).WithFile(c.name).WithTensor(name)
	}
	// Parse checked that every tensor lies inside the file, so this
	// allocation is bounded by the file's size.
	raw := make([]byte, e.bytes())
	if got, err := c.r.ReadAt(raw, e.off); got < len(raw) {
		return nil, omexerr.Modelf("model.read_failed", "cannot read tensor data").WithFile(c.name).WithTensor(name).WithOffset(e.off + int64(got)).Wrap(err)
	}
	t := &tensor.Tensor{Name: name, DType: e.dtype(), Shape: append([]int(nil), e.shape...)}
	if !e.int8 {
		t.Data = raw
		return t, nil
	}
	n := int(e.elements())
	q, scaleBytes := raw[:n], raw[n:]
	scales := make([]float32, len(scaleBytes)/4)
	for i := range scales {
		scales[i] = math.Float32frombits(binary.LittleEndian.Uint32(scaleBytes[4*i:]))
	}
	if e.q8 {
		t.Data = q
		t.Scales = blockScales(scales, n, e.groupSize)
		return t, nil
	}
	t.Data = dequantize(q, scales, e.groupSize)
	return t, nil
}

// blockScales spreads the per-group scales over Q8_0's 32-element blocks.
// A group size that is a multiple of BlockSize covers whole blocks, so each
// block takes its group's scale and the values are unchanged.
func blockScales(scales []float32, n, groupSize int) []float32 {
	if groupSize == tensor.BlockSize {
		return scales
	}
	out := make([]float32, n/tensor.BlockSize)
	for b := range out {
		out[b] = scales[b*tensor.BlockSize/groupSize]
	}
	return out
}

// dequantize returns the fp32 bytes of q[i]*scales[i/groupSize], the
// product runq.c's dequantize forms, for groups that do not fit Q8_0 blocks
// (such as rows of a length that is not a multiple of 32).
func dequantize(q []byte, scales []float32, groupSize int) []byte {
	out := make([]byte, 4*len(q))
	for i, v := range q {
		f := float32(int8(v)) * scales[i/groupSize]
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

package gguf

import (
	"encoding/binary"
	"math"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// File is a frontend.Source.
var _ frontend.Source = (*File)(nil)

// Meta returns the descriptive general.* metadata; the name falls back to
// the file's base name.
func (g *File) Meta() frontend.Meta {
	m := frontend.Meta{SourceFormat: "gguf"}
	m.Name, _ = g.String("general.name")
	if m.Name == "" {
		m.Name = baseName(g.name)
	}
	m.Architecture, _ = g.String("general.architecture")
	m.License, _ = g.String("general.license")
	m.Description, _ = g.String("general.description")
	m.Version, _ = g.String("general.version")
	return m
}

// Tensors lists the tensors with canonical names (GGUF's own) and [out, in]
// shapes. A tensor of a type ReadTensor cannot convert gets an invalid
// DType (see tensor.DType.Valid); ModelConfig reports it by name.
func (g *File) Tensors() []tensor.Info {
	out := make([]tensor.Info, len(g.tensors))
	for i, t := range g.tensors {
		dt, ok := dtypeOf(t.Type)
		if !ok {
			dt = tensor.DType(math.MaxUint32)
		}
		out[i] = tensor.Info{Name: t.Name, DType: dt, Shape: t.Shape()}
	}
	return out
}

// ReadTensor reads one tensor. F32, F16 and BF16 data is copied as stored;
// Q8_0 and Q4_0 blocks are split into their f16 scales (widened to float32,
// exactly) and their int8s or nibble bytes, in GGUF order.
func (g *File) ReadTensor(name string) (*tensor.Tensor, error) {
	t, ok := g.TensorInfo(name)
	if !ok {
		return nil, omexerr.Modelf("model.missing_tensor", "no such tensor").WithFile(g.name).WithTensor(name)
	}
	dt, ok := dtypeOf(t.Type)
	if !ok {
		return nil, unsupportedType(g.name, t)
	}
	off := g.dataOffset + int64(t.Offset)
	raw := make([]byte, t.Size)
	if _, err := g.r.ReadAt(raw, off); err != nil {
		return nil, omexerr.Modelf("model.read", "reading %d bytes of tensor data", t.Size).
			WithFile(g.name).WithTensor(name).WithOffset(off).Wrap(err)
	}
	out := &tensor.Tensor{Name: name, DType: dt, Shape: t.Shape()}
	switch dt {
	case tensor.Q8_0:
		out.Data, out.Scales = splitBlocks(raw, 34, 32)
	case tensor.Q4_0:
		out.Data, out.Scales = splitBlocks(raw, 18, 16)
	default:
		out.Data = raw
	}
	return out, nil
}

// splitBlocks separates ggml blocks of blockBytes bytes, each an f16 scale
// followed by payload bytes, into the payloads and the float32 scales.
func splitBlocks(raw []byte, blockBytes, payload int) ([]byte, []float32) {
	n := len(raw) / blockBytes
	data := make([]byte, n*payload)
	scales := make([]float32, n)
	for i := range n {
		b := raw[i*blockBytes : (i+1)*blockBytes]
		scales[i] = F16ToF32(binary.LittleEndian.Uint16(b))
		copy(data[i*payload:], b[2:])
	}
	return data, scales
}

// F16ToF32 widens an IEEE half-precision bit pattern to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal half: mant * 2^-24, exact in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

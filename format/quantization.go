package format

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// QuantizationInfo is weights/quantization.json: the exact block schemes of
// the quantized dtypes the package uses, so a reader need not guess them.
type QuantizationInfo struct {
	Schemes []QuantScheme `json:"schemes"` // in dtype code order; empty when nothing is quantized
}

// QuantScheme describes one block-quantized dtype. Both schemes are
// symmetric: no zero point is stored; ZeroPoint is the fixed stored value
// that means zero (0 for q8_0, 8 for q4_0).
type QuantScheme struct {
	DType      string `json:"dtype"`        // tensor.DType name, "q8_0" or "q4_0"
	OnDiskName string `json:"on_disk_name"` // "INT8" or "INT4"
	TypeCode   uint32 `json:"type_code"`    // the record's data type field
	Bits       int    `json:"bits"`
	BlockSize  int    `json:"block_size"`
	ScaleType  string `json:"scale_type"` // "f32"
	Symmetric  bool   `json:"symmetric"`
	ZeroPoint  int    `json:"zero_point"`
	Dequantize string `json:"dequantize"`
	Packing    string `json:"packing"`
}

// SchemeOf returns the scheme of a quantized dtype; ok is false otherwise.
func SchemeOf(d tensor.DType) (QuantScheme, bool) {
	switch d {
	case tensor.Q8_0:
		return QuantScheme{
			DType: d.String(), OnDiskName: "INT8", TypeCode: uint32(d), Bits: 8,
			BlockSize: tensor.BlockSize, ScaleType: "f32", Symmetric: true, ZeroPoint: 0,
			Dequantize: "x[i] = q[i] * scale[i/32]",
			Packing:    "one int8 per element, row-major; blocks never span rows",
		}, true
	case tensor.Q4_0:
		return QuantScheme{
			DType: d.String(), OnDiskName: "INT4", TypeCode: uint32(d), Bits: 4,
			BlockSize: tensor.BlockSize, ScaleType: "f32", Symmetric: true, ZeroPoint: 8,
			Dequantize: "x[i] = (q[i] - 8) * scale[i/32]",
			Packing:    "16 bytes per block of 32; byte j holds element j in its low nibble and element j+16 in its high nibble; blocks never span rows",
		}, true
	}
	return QuantScheme{}, false
}

// quantizationFor lists the schemes of the quantized dtypes in used.
func quantizationFor(used map[tensor.DType]bool) QuantizationInfo {
	q := QuantizationInfo{Schemes: []QuantScheme{}}
	for d := tensor.F32; d.Valid(); d++ {
		if s, ok := SchemeOf(d); ok && used[d] {
			q.Schemes = append(q.Schemes, s)
		}
	}
	return q
}

// validateFor checks that the file states, unchanged, the scheme of every
// quantized dtype in used (a changed scheme means data this reader would
// misinterpret).
func (q *QuantizationInfo) validateFor(used map[tensor.DType]bool) *omexerr.Error {
	for d := tensor.F32; d.Valid(); d++ {
		want, ok := SchemeOf(d)
		if !ok || !used[d] {
			continue
		}
		found := false
		for _, s := range q.Schemes {
			if s.DType == want.DType {
				if s != want {
					return omexerr.Modelf("model.bad_quantization", "scheme for %s differs from the one this reader implements: %+v", s.DType, s).WithFile(QuantizationFile)
				}
				found = true
			}
		}
		if !found {
			return omexerr.Modelf("model.bad_quantization", "no scheme stated for %s, which the index uses", want.DType).WithFile(QuantizationFile)
		}
	}
	return nil
}

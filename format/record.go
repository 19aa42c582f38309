package format

import (
	"encoding/binary"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Constants of the binary weight record (docs/FORMAT.md, "Weight records").
const (
	RecordMagic   = "OMEX"
	RecordVersion = 1
	// HeaderSize is the fixed part of a record header; the dims follow it.
	HeaderSize = 24
	// Alignment is the file-offset alignment of every record and of every
	// record's data, so a reader can map the data directly.
	Alignment = 64
	// MaxDims is the largest number of dimensions a record may have.
	MaxDims = 8
)

// RecordHeader is the decoded header of one weight record.
type RecordHeader struct {
	Layer int // block number, or EmbeddingLayer / HeadLayer
	DType tensor.DType
	Shape []int
}

// Elements is the number of elements the header describes.
func (h *RecordHeader) Elements() int64 { return shapeElements(h.Shape) }

// ScalesCount is the number of float32 scales stored after the dims: one per
// block of tensor.BlockSize elements for quantized types, else zero.
func (h *RecordHeader) ScalesCount() int64 {
	if !h.DType.Quantized() {
		return 0
	}
	return h.Elements() / tensor.BlockSize
}

// ScalesOffset is the offset of the scales relative to the record start.
func (h *RecordHeader) ScalesOffset() int64 { return HeaderSize + 4*int64(len(h.Shape)) }

// DataOffset is the file offset of the record's data when the record starts
// at recordOffset: the end of the scales rounded up to Alignment.
func (h *RecordHeader) DataOffset(recordOffset int64) int64 {
	return alignUp(recordOffset + h.ScalesOffset() + 4*h.ScalesCount())
}

// DataBytes is the size of the record's element data.
func (h *RecordHeader) DataBytes() int64 { return h.DType.DataBytes64(h.Elements()) }

// alignUp rounds off up to the next multiple of Alignment.
func alignUp(off int64) int64 { return (off + Alignment - 1) &^ (Alignment - 1) }

// shapeElements multiplies a shape that checkShape accepted.
func shapeElements(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	return n
}

// checkShape reports why a dtype and shape cannot be stored in a record, or
// "" when they can: 1..MaxDims positive dims whose product fits the u32
// element count, and for quantized types a last (row) dimension that is a
// whole number of blocks, so no block spans two rows.
func checkShape(d tensor.DType, shape []int) string {
	if !d.Valid() {
		return "unknown data type " + d.String()
	}
	if len(shape) < 1 || len(shape) > MaxDims {
		return "number of dimensions must be 1.." + itoa(MaxDims)
	}
	n := int64(1)
	for _, s := range shape {
		if s < 1 || int64(s) > math.MaxUint32 {
			return "dimension " + itoa(s) + " out of range"
		}
		n *= int64(s)
		if n > math.MaxUint32 {
			return "more than 2^32-1 elements"
		}
	}
	if d.Quantized() && shape[len(shape)-1]%tensor.BlockSize != 0 {
		return "last dimension " + itoa(shape[len(shape)-1]) + " is not a multiple of the block size 32"
	}
	return ""
}

// appendRecordPrefix appends the header, dims and scales of a record that
// starts at recordOffset, and the zero padding up to its data.
func appendRecordPrefix(b []byte, h *RecordHeader, scales []float32, recordOffset int64) []byte {
	b = append(b, RecordMagic...)
	b = binary.LittleEndian.AppendUint32(b, RecordVersion)
	b = binary.LittleEndian.AppendUint32(b, layerToDisk(h.Layer))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.DType))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Shape)))
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Elements()))
	for _, s := range h.Shape {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	for _, s := range scales {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
	}
	pad := h.DataOffset(recordOffset) - recordOffset - (h.ScalesOffset() + 4*h.ScalesCount())
	return append(b, make([]byte, pad)...)
}

// ParseRecordHeader decodes the header and dims at the start of b. It needs
// HeaderSize bytes plus 4 per dimension; the scales are not read. A failure
// is a ModelError whose Offset is relative to the start of b (callers add
// the record's file offset and the file name).
func ParseRecordHeader(b []byte) (RecordHeader, error) {
	var h RecordHeader
	if len(b) < HeaderSize {
		return h, omexerr.Modelf("model.truncated", "record header needs %d bytes, have %d", HeaderSize, len(b)).WithOffset(0)
	}
	if string(b[0:4]) != RecordMagic {
		return h, omexerr.Modelf("model.bad_magic", "record magic is %q, want %q", b[0:4], RecordMagic).WithOffset(0)
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != RecordVersion {
		return h, omexerr.Modelf("model.unsupported_version", "record version %d, want %d", v, RecordVersion).WithOffset(4)
	}
	layer, ok := layerFromDisk(binary.LittleEndian.Uint32(b[8:]))
	if !ok {
		return h, omexerr.Modelf("model.bad_record", "record layer id %d out of range", binary.LittleEndian.Uint32(b[8:])).WithOffset(8)
	}
	h.Layer = layer
	h.DType = tensor.DType(binary.LittleEndian.Uint32(b[12:]))
	if !h.DType.Valid() {
		return h, omexerr.Modelf("model.bad_dtype", "unknown record data type %d", uint32(h.DType)).WithOffset(12)
	}
	ndims := binary.LittleEndian.Uint32(b[16:])
	if ndims < 1 || ndims > MaxDims {
		return h, omexerr.Modelf("model.bad_record", "record has %d dimensions, want 1..%d", ndims, MaxDims).WithOffset(16)
	}
	total := binary.LittleEndian.Uint32(b[20:])
	if len(b) < HeaderSize+4*int(ndims) {
		return h, omexerr.Modelf("model.truncated", "record dims need %d bytes, have %d", HeaderSize+4*int(ndims), len(b)).WithOffset(HeaderSize)
	}
	h.Shape = make([]int, ndims)
	for i := range h.Shape {
		h.Shape[i] = int(binary.LittleEndian.Uint32(b[HeaderSize+4*i:]))
	}
	if why := checkShape(h.DType, h.Shape); why != "" {
		return h, omexerr.Modelf("model.bad_record", "record shape %v: %s", h.Shape, why).WithOffset(HeaderSize)
	}
	if int64(total) != h.Elements() {
		return h, omexerr.Modelf("model.bad_record", "record says %d elements but shape %v has %d", total, h.Shape, h.Elements()).WithOffset(20)
	}
	return h, nil
}

package format

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Index is weights/index.json: where every tensor's record lies, so a reader
// maps a tensor without scanning the weight files.
type Index struct {
	FormatVersion int          `json:"format_version"` // the record version, 1
	Alignment     int          `json:"alignment"`      // 64
	Tensors       []IndexEntry `json:"tensors"`        // in file order (see compareEntries), then by record offset
}

// IndexEntry locates one tensor. Offsets are absolute byte offsets in File
// (a name inside weights/); ScalesOffset and ScalesCount are zero (omitted)
// for types without scales.
type IndexEntry struct {
	Name         string `json:"name"`
	File         string `json:"file"`
	Layer        int    `json:"layer"`
	DType        string `json:"dtype"`
	Shape        []int  `json:"shape"`
	RecordOffset int64  `json:"record_offset"`
	ScalesOffset int64  `json:"scales_offset,omitempty"`
	ScalesCount  int64  `json:"scales_count,omitempty"`
	DataOffset   int64  `json:"data_offset"`
	DataBytes    int64  `json:"data_bytes"`
}

// maxFileOffset bounds offsets in the index so offset arithmetic cannot
// overflow; 256 TiB is far beyond any weight file.
const maxFileOffset = 1 << 48

// Info returns the tensor's name, dtype and shape. It assumes the entry
// passed validation (an unknown dtype reads as F32).
func (e *IndexEntry) Info() tensor.Info {
	d, _ := ParseDType(e.DType)
	return tensor.Info{Name: e.Name, DType: d, Shape: slices.Clone(e.Shape)}
}

// header is the record header the entry promises.
func (e *IndexEntry) header() RecordHeader {
	d, _ := ParseDType(e.DType)
	return RecordHeader{Layer: e.Layer, DType: d, Shape: e.Shape}
}

// newIndexEntry computes the entry of a record that starts at recordOffset.
func newIndexEntry(name string, h *RecordHeader, recordOffset int64) IndexEntry {
	e := IndexEntry{
		Name:         name,
		File:         WeightFileName(h.Layer),
		Layer:        h.Layer,
		DType:        h.DType.String(),
		Shape:        slices.Clone(h.Shape),
		RecordOffset: recordOffset,
		DataOffset:   h.DataOffset(recordOffset),
		DataBytes:    h.DataBytes(),
	}
	if h.DType.Quantized() {
		e.ScalesOffset = recordOffset + h.ScalesOffset()
		e.ScalesCount = h.ScalesCount()
	}
	return e
}

// compareEntries orders entries as the writer lists them: the embedding
// file, the block files by layer number, the head file; within a file by
// record offset. It is the model's execution order, which readers that
// stream weights appreciate.
func compareEntries(a, b IndexEntry) int {
	if c := cmp.Compare(layerRank(a.Layer), layerRank(b.Layer)); c != 0 {
		return c
	}
	return cmp.Compare(a.RecordOffset, b.RecordOffset)
}

// layerRank places EmbeddingLayer first and HeadLayer last.
func layerRank(layer int) int {
	switch layer {
	case EmbeddingLayer:
		return -1
	case HeadLayer:
		return MaxLayer + 1
	}
	return layer
}

// validate checks every entry's arithmetic (offsets follow from the record
// start, dtype and shape exactly as the writer lays them out), that names
// are unique and that records in one file do not overlap. The errors name
// the index file and the tensor.
func (ix *Index) validate() *omexerr.Error {
	bad := func(name, format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_index", format, args...).WithFile(IndexFile).WithTensor(name)
	}
	if ix.FormatVersion != RecordVersion {
		return omexerr.Modelf("model.unsupported_version", "index format_version %d, want %d", ix.FormatVersion, RecordVersion).WithFile(IndexFile)
	}
	if ix.Alignment != Alignment {
		return omexerr.Modelf("model.bad_index", "index alignment %d, want %d", ix.Alignment, Alignment).WithFile(IndexFile)
	}
	names := make(map[string]bool, len(ix.Tensors))
	for i := range ix.Tensors {
		e := &ix.Tensors[i]
		if e.Name == "" || !utf8.ValidString(e.Name) {
			return bad(e.Name, "tensor %d has an empty or non-UTF-8 name", i)
		}
		if names[e.Name] {
			return bad(e.Name, "tensor listed twice")
		}
		names[e.Name] = true
		if layer, ok := layerOfFileName(e.File); !ok || layer != e.Layer {
			return bad(e.Name, "file %q does not match layer %d (want %q)", e.File, e.Layer, WeightFileName(e.Layer))
		}
		d, ok := ParseDType(e.DType)
		if !ok {
			return bad(e.Name, "unknown dtype %q", e.DType)
		}
		if why := checkShape(d, e.Shape); why != "" {
			return bad(e.Name, "shape %v: %s", e.Shape, why)
		}
		if e.RecordOffset < 0 || e.RecordOffset > maxFileOffset || e.RecordOffset%Alignment != 0 {
			return bad(e.Name, "record_offset %d is not a %d-aligned offset", e.RecordOffset, Alignment)
		}
		h := e.header()
		want := newIndexEntry(e.Name, &h, e.RecordOffset)
		if e.ScalesOffset != want.ScalesOffset || e.ScalesCount != want.ScalesCount {
			return bad(e.Name, "scales at %d (%d) but the record layout puts them at %d (%d)", e.ScalesOffset, e.ScalesCount, want.ScalesOffset, want.ScalesCount)
		}
		if e.DataOffset != want.DataOffset || e.DataBytes != want.DataBytes {
			return bad(e.Name, "data at %d (%d bytes) but the record layout puts it at %d (%d bytes)", e.DataOffset, e.DataBytes, want.DataOffset, want.DataBytes)
		}
	}
	// Records of one file must not overlap.
	order := make([]*IndexEntry, len(ix.Tensors))
	for i := range ix.Tensors {
		order[i] = &ix.Tensors[i]
	}
	slices.SortFunc(order, func(a, b *IndexEntry) int {
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.RecordOffset, b.RecordOffset)
	})
	for i := 1; i < len(order); i++ {
		prev, cur := order[i-1], order[i]
		if prev.File == cur.File && cur.RecordOffset < prev.DataOffset+prev.DataBytes {
			return bad(cur.Name, "record at %d overlaps tensor %q (ends at %d) in %s", cur.RecordOffset, prev.Name, prev.DataOffset+prev.DataBytes, cur.File)
		}
	}
	return nil
}

package format

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Package is an opened OMEX package: its JSON files and tokenizer in
// memory, its weights read on demand with ReadTensor. ReadTensor opens the
// weight file for each call, so goroutines may read tensors concurrently
// and there is nothing to close.
type Package struct {
	Dir          string
	Metadata     Metadata
	Graph        Graph
	Index        Index
	Quantization QuantizationInfo
	Tokenizer    Tokenizer
	Agent        Agent

	byName map[string]*IndexEntry
}

// Open reads and checks the package at dir: metadata, graph, weight index,
// quantization schemes, tokenizer files and agent, and that every weight
// the graph needs is indexed with the right dtype and shape. It does not
// hash files or read weight records; Verify does. Bad content is a
// ModelError naming the file.
func Open(dir string) (*Package, error) {
	p, e := open(dir)
	if e != nil {
		return nil, e
	}
	return p, nil
}

// open is Open with a concrete error type.
func open(dir string) (*Package, *omexerr.Error) {
	p := &Package{Dir: dir}
	if e := readJSON(dir, MetadataFile, &p.Metadata); e != nil {
		return nil, e
	}
	if e := p.Metadata.validate(); e != nil {
		return nil, e.WithFile(MetadataFile)
	}
	if e := readJSON(dir, GraphFile, &p.Graph); e != nil {
		return nil, e
	}
	if e := p.Graph.validate(); e != nil {
		return nil, e.WithFile(GraphFile)
	}
	if e := readJSON(dir, IndexFile, &p.Index); e != nil {
		return nil, e
	}
	if e := p.Index.validate(); e != nil {
		return nil, e
	}
	p.byName = indexByName(&p.Index)
	if e := checkGraphWeights(&p.Graph, p.byName); e != nil {
		return nil, e
	}
	if e := readJSON(dir, QuantizationFile, &p.Quantization); e != nil {
		return nil, e
	}
	used := map[tensor.DType]bool{}
	for i := range p.Index.Tensors {
		used[p.Index.Tensors[i].Info().DType] = true
	}
	if e := p.Quantization.validateFor(used); e != nil {
		return nil, e
	}
	tok, e := readTokenizer(dir)
	if e != nil {
		return nil, e
	}
	p.Tokenizer = *tok
	if e := readJSON(dir, AgentFile, &p.Agent); e != nil {
		return nil, e
	}
	if e := p.Agent.validate(); e != nil {
		return nil, e.WithFile(AgentFile)
	}
	return p, nil
}

// readTokenizer reads tokenizer.json and the files it names, checking each
// file's size against vocab_size before decoding it.
func readTokenizer(dir string) (*Tokenizer, *omexerr.Error) {
	t := &Tokenizer{}
	if e := readJSON(dir, TokenizerFile, &t.Config); e != nil {
		return nil, e
	}
	c := &t.Config
	if e := c.validateConfig(TokenizerFile); e != nil {
		return nil, e
	}
	b, e := readFile(dir, VocabFile, maxTextBytes)
	if e != nil {
		return nil, e
	}
	if t.Vocab, e = decodeLines(b, VocabFile, c.VocabSize); e != nil {
		return nil, e
	}
	if c.Files.Merges != "" {
		if b, e = readFile(dir, MergesFile, maxTextBytes); e != nil {
			return nil, e
		}
		if t.Merges, e = decodeLines(b, MergesFile, -1); e != nil {
			return nil, e
		}
	}
	if c.Files.Scores != "" {
		if b, e = readFile(dir, ScoresFile, 4*int64(c.VocabSize)); e != nil {
			return nil, e
		}
		if t.Scores, e = decodeFloat32s(b, ScoresFile, c.VocabSize); e != nil {
			return nil, e
		}
	}
	if c.Files.TokenTypes != "" {
		if b, e = readFile(dir, TokenTypesFile, 4*int64(c.VocabSize)); e != nil {
			return nil, e
		}
		if t.Types, e = decodeInt32s(b, TokenTypesFile, c.VocabSize); e != nil {
			return nil, e
		}
	}
	if e := t.validate(); e != nil {
		return nil, e
	}
	return t, nil
}

// Tensors lists the stored tensors in index order (by file, then offset).
func (p *Package) Tensors() []tensor.Info {
	out := make([]tensor.Info, len(p.Index.Tensors))
	for i := range p.Index.Tensors {
		out[i] = p.Index.Tensors[i].Info()
	}
	return out
}

// Entry returns the index entry of the named tensor.
func (p *Package) Entry(name string) (IndexEntry, bool) {
	e, ok := p.byName[name]
	if !ok {
		return IndexEntry{}, false
	}
	return *e, true
}

// ReadTensor reads the named tensor from its record, checking the record
// header, padding and size against the index first. An unknown name is an
// InputError; a record that disagrees with the index is a ModelError that
// names the weight file, the tensor and the offset.
func (p *Package) ReadTensor(name string) (*tensor.Tensor, error) {
	e, ok := p.byName[name]
	if !ok {
		return nil, omexerr.Inputf("input.unknown_tensor", "no such tensor in the package").WithTensor(name)
	}
	rel := WeightsDir + "/" + e.File
	f, err := os.Open(filepath.Join(p.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, openError(rel, err).WithTensor(name)
	}
	defer f.Close()
	t, oe := readRecord(f, rel, e, true)
	if oe != nil {
		return nil, oe
	}
	return t, nil
}

// readRecord reads and checks the record of e from f (the weight file rel).
// With data false it checks the header, scales and bounds but skips the
// element data (Verify's use).
func readRecord(f *os.File, rel string, e *IndexEntry, data bool) (*tensor.Tensor, *omexerr.Error) {
	bad := func(off int64, code, format string, args ...any) *omexerr.Error {
		return omexerr.Modelf(code, format, args...).WithFile(rel).WithTensor(e.Name).WithOffset(off)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, ioError("cannot stat weight file", rel, err)
	}
	end := e.DataOffset + e.DataBytes
	if end > st.Size() {
		return nil, bad(st.Size(), "model.truncated", "record ends at %d but the file has %d bytes", end, st.Size())
	}
	// The index was validated, so the prefix (header, dims, scales,
	// padding) is DataOffset-RecordOffset bytes and lies within the file.
	prefix := make([]byte, e.DataOffset-e.RecordOffset)
	if e := readAt(f, rel, prefix, e.RecordOffset); e != nil {
		return nil, e
	}
	h, err := ParseRecordHeader(prefix)
	if err != nil {
		pe, _ := omexerr.As(err)
		return nil, pe.WithFile(rel).WithTensor(e.Name).WithOffset(e.RecordOffset + pe.Offset)
	}
	want := e.header()
	if h.Layer != want.Layer || h.DType != want.DType || !slices.Equal(h.Shape, want.Shape) {
		return nil, bad(e.RecordOffset, "model.record_mismatch", "record header says layer %d %s %v, the index says layer %d %s %v",
			h.Layer, h.DType, h.Shape, want.Layer, want.DType, want.Shape)
	}
	scalesEnd := h.ScalesOffset() + 4*h.ScalesCount()
	if pad := prefix[scalesEnd:]; !bytes.Equal(pad, make([]byte, len(pad))) {
		return nil, bad(e.RecordOffset+scalesEnd, "model.bad_record", "padding before the data is not zero")
	}
	t := &tensor.Tensor{Name: e.Name, DType: h.DType, Shape: h.Shape}
	if h.DType.Quantized() {
		t.Scales = make([]float32, h.ScalesCount())
		raw := prefix[h.ScalesOffset():scalesEnd]
		for i := range t.Scales {
			t.Scales[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	if data {
		t.Data = make([]byte, e.DataBytes)
		if e := readAt(f, rel, t.Data, e.DataOffset); e != nil {
			return nil, e
		}
	}
	return t, nil
}

// readAt fills b from f at off. A short read means the file shrank after
// it was checked, which is bad content, not an I/O fault.
func readAt(f *os.File, rel string, b []byte, off int64) *omexerr.Error {
	n, err := f.ReadAt(b, off)
	switch {
	case n == len(b):
		return nil
	case err == io.EOF:
		return omexerr.Modelf("model.truncated", "file ends inside a record").WithFile(rel).WithOffset(off + int64(n))
	}
	return ioError("cannot read weight file", rel, err)
}

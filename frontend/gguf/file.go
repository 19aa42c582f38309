// Package gguf reads GGUF v2/v3 model files (llama.cpp's format) as a
// frontend.Source: the header and metadata are parsed and validated at open,
// and tensors are read one at a time with ReadAt.
package gguf

import (
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// defaultAlignment is the data alignment when general.alignment is absent.
const defaultAlignment = 32

// File is an opened GGUF file: its metadata and tensor directory, plus the
// reader its tensor data is fetched from.
type File struct {
	name    string // path or label used in errors
	r       io.ReaderAt
	size    int64
	closer  io.Closer
	version uint32

	kvs      []KV
	kvIndex  map[string]int
	tensors  []TensorInfo
	tensorIx map[string]int

	alignment  uint64
	dataOffset int64

	// Derived at open; the errors are kept so that vocab-only files open.
	cfg    model.Config
	cfgErr error
	tok    tokenizer.Spec
	tokErr error
}

// TensorInfo is one entry of the tensor directory.
type TensorInfo struct {
	Name   string
	Dims   []uint64 // GGUF order: Dims[0] is the innermost (row length)
	Type   GGMLType
	Offset uint64 // from the start of the data section
	Size   uint64 // bytes of data
}

// TypeName returns ggml's name of the tensor's element type, e.g. "Q8_0".
func (t TensorInfo) TypeName() string { return t.Type.String() }

// Shape returns the dimensions outermost first ([out, in] for a linear
// weight): GGUF's dims reversed.
func (t TensorInfo) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[len(t.Dims)-1-i] = int(d)
	}
	return s
}

// Elements returns the number of elements.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Open opens and parses the GGUF file at path. The file stays open for
// ReadTensor until Close.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Inputf("input.open", "cannot open model file").WithFile(path).Wrap(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, omexerr.Inputf("input.open", "cannot stat model file").WithFile(path).Wrap(err)
	}
	g, err := Parse(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	g.closer = f
	return g, nil
}

// Parse reads the GGUF header, metadata and tensor directory of the size
// bytes behind r; name labels the file in errors and is the fallback model
// name. r must stay readable while tensors are read.
func Parse(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 0 {
		return nil, omexerr.Modelf("model.corrupt", "negative file size %d", size).WithFile(name)
	}
	d := newDecoder(r, size, name)
	g := &File{name: name, r: r, size: size, alignment: defaultAlignment}
	if err := g.parseHeader(d); err != nil {
		return nil, err
	}
	g.cfg, g.cfgErr = g.buildConfig()
	if g.cfgErr != nil {
		g.cfg = model.Config{}
	}
	g.tok, g.tokErr = g.buildTokenizer()
	if g.tokErr != nil {
		g.tok = tokenizer.Spec{}
	}
	return g, nil
}

// Close releases the file opened by Open; it does nothing after Parse.
func (g *File) Close() error {
	if g.closer == nil {
		return nil
	}
	err := g.closer.Close()
	g.closer = nil
	return err
}

// Name returns the path or label the file was opened with.
func (g *File) Name() string { return g.name }

// Version returns the GGUF format version (2 or 3).
func (g *File) Version() uint32 { return g.version }

// Alignment returns the data alignment in bytes (general.alignment or 32).
func (g *File) Alignment() uint64 { return g.alignment }

// DataOffset returns the byte offset of the tensor data section.
func (g *File) DataOffset() int64 { return g.dataOffset }

// KVs returns the metadata pairs in file order. The slice is shared; do not
// modify it.
func (g *File) KVs() []KV { return g.kvs }

// Lookup returns the metadata pair with the given key.
func (g *File) Lookup(key string) (KV, bool) {
	i, ok := g.kvIndex[key]
	if !ok {
		return KV{}, false
	}
	return g.kvs[i], true
}

// TensorInfos returns the tensor directory in file order. The slice is
// shared; do not modify it.
func (g *File) TensorInfos() []TensorInfo { return g.tensors }

// TensorInfo returns the directory entry of the named tensor.
func (g *File) TensorInfo(name string) (TensorInfo, bool) {
	i, ok := g.tensorIx[name]
	if !ok {
		return TensorInfo{}, false
	}
	return g.tensors[i], true
}

// parseHeader reads everything before the tensor data and checks that the
// tensors lie, aligned and disjoint, inside the file.
func (g *File) parseHeader(d *decoder) error {
	var magic [4]byte
	if err := d.read(magic[:], "magic"); err != nil {
		return err
	}
	if string(magic[:]) != "GGUF" {
		return omexerr.Modelf("model.bad_magic", "not a GGUF file: magic %q", magic[:]).WithFile(g.name).WithOffset(0)
	}
	v, err := d.u32("version")
	if err != nil {
		return err
	}
	if v != 2 && v != 3 {
		return omexerr.Modelf("model.unsupported_version",
			"GGUF version %d is not supported (only 2 and 3; version 1 used 32-bit counts, a huge value may be a big-endian file)", v).
			WithFile(g.name).WithOffset(4)
	}
	g.version = v
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return err
	}
	// A pair takes at least 13 bytes (key length, type, one byte of value)
	// and a tensor entry at least 32, so larger counts cannot fit.
	if nKV > d.remaining()/13 {
		return omexerr.Modelf("model.corrupt", "metadata count %d cannot fit in a %d-byte file", nKV, g.size).
			WithFile(g.name).WithOffset(16)
	}
	if nTensors > d.remaining()/32 {
		return omexerr.Modelf("model.corrupt", "tensor count %d cannot fit in a %d-byte file", nTensors, g.size).
			WithFile(g.name).WithOffset(8)
	}
	if err := g.parseKVs(d, nKV); err != nil {
		return err
	}
	if err := g.parseTensorInfos(d, nTensors); err != nil {
		return err
	}
	return g.placeTensors(d)
}

// parseKVs reads the metadata pairs and applies general.alignment.
func (g *File) parseKVs(d *decoder, n uint64) error {
	g.kvs = make([]KV, 0, n)
	g.kvIndex = make(map[string]int, n)
	for i := uint64(0); i < n; i++ {
		start := d.off
		key, err := d.str("metadata key")
		if err != nil {
			return err
		}
		if _, dup := g.kvIndex[key]; dup {
			return d.corrupt(start, "duplicate metadata key %q", key)
		}
		typOff := d.off
		t, err := d.u32("type of " + key)
		if err != nil {
			return err
		}
		if !ValueType(t).valid() {
			return d.corrupt(typOff, "metadata %q has unknown value type %d", key, t)
		}
		val, err := d.value(ValueType(t), key, 0)
		if err != nil {
			return err
		}
		if key == "general.alignment" {
			a, ok := val.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return d.corrupt(start, "general.alignment must be a power-of-two uint32, got %v (%s)", val, ValueType(t))
			}
			g.alignment = uint64(a)
		}
		g.kvIndex[key] = len(g.kvs)
		g.kvs = append(g.kvs, KV{Key: key, Type: ValueType(t), Value: val})
	}
	return nil
}

// parseTensorInfos reads the tensor directory.
func (g *File) parseTensorInfos(d *decoder, n uint64) error {
	g.tensors = make([]TensorInfo, 0, n)
	g.tensorIx = make(map[string]int, n)
	for i := uint64(0); i < n; i++ {
		start := d.off
		name, err := d.str("tensor name")
		if err != nil {
			return err
		}
		if _, dup := g.tensorIx[name]; dup {
			return d.corrupt(start, "duplicate tensor %q", name)
		}
		ndOff := d.off
		nd, err := d.u32("dimension count of " + name)
		if err != nil {
			return err
		}
		if nd < 1 || nd > 4 {
			return d.corrupt(ndOff, "tensor %q has %d dimensions (1 to 4 allowed)", name, nd)
		}
		ti := TensorInfo{Name: name, Dims: make([]uint64, nd)}
		for j := range ti.Dims {
			if ti.Dims[j], err = d.u64("dimension of " + name); err != nil {
				return err
			}
			// Empty tensors carry nothing a model can use, and refusing
			// them keeps every later size product positive and bounded.
			if ti.Dims[j] == 0 {
				return d.corrupt(ndOff, "tensor %q has a zero dimension", name)
			}
		}
		typOff := d.off
		t, err := d.u32("type of " + name)
		if err != nil {
			return err
		}
		ti.Type = GGMLType(t)
		info, ok := ggmlTypes[ti.Type]
		if !ok {
			return d.corrupt(typOff, "tensor %q has unknown ggml type %d", name, t)
		}
		if ti.Offset, err = d.u64("offset of " + name); err != nil {
			return err
		}
		if ti.Dims[0]%info.blockSize != 0 {
			return d.corrupt(ndOff, "tensor %q: row length %d is not a whole number of %s blocks of %d",
				name, ti.Dims[0], ti.Type, info.blockSize)
		}
		// The byte size must not overflow: bound it by the file size as the
		// product grows (every dimension at least 1 keeps it monotone).
		limit := uint64(g.size)
		blocks := ti.Dims[0] / info.blockSize
		if blocks > limit/info.typeSize {
			return d.corrupt(ndOff, "tensor %q: dimensions %v need more bytes than the %d-byte file holds", name, ti.Dims, g.size)
		}
		size := blocks * info.typeSize
		for _, dim := range ti.Dims[1:] {
			if size > 0 && dim > limit/size {
				return d.corrupt(ndOff, "tensor %q: dimensions %v need more bytes than the %d-byte file holds", name, ti.Dims, g.size)
			}
			size *= dim
		}
		if size > limit {
			return d.corrupt(ndOff, "tensor %q: dimensions %v need more bytes than the %d-byte file holds", name, ti.Dims, g.size)
		}
		ti.Size = size
		g.tensorIx[name] = len(g.tensors)
		g.tensors = append(g.tensors, ti)
	}
	return nil
}

// placeTensors fixes the data section start (the header end, aligned) and
// checks every tensor is aligned, inside the file and overlaps no other.
func (g *File) placeTensors(d *decoder) error {
	start := (uint64(d.off) + g.alignment - 1) / g.alignment * g.alignment
	g.dataOffset = int64(start)
	if len(g.tensors) == 0 {
		return nil
	}
	if start > uint64(g.size) {
		return omexerr.Modelf("model.truncated", "tensor data section at %d starts past the end of the %d-byte file", start, g.size).
			WithFile(g.name).WithOffset(d.off)
	}
	avail := uint64(g.size) - start
	order := make([]int, len(g.tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return g.tensors[order[a]].Offset < g.tensors[order[b]].Offset })
	var end uint64
	var prev string
	for k, i := range order {
		t := g.tensors[i]
		if t.Offset%g.alignment != 0 {
			return omexerr.Modelf("model.corrupt", "tensor offset %d is not a multiple of the alignment %d", t.Offset, g.alignment).
				WithFile(g.name).WithTensor(t.Name).WithOffset(int64(start))
		}
		if t.Offset > avail || t.Size > avail-t.Offset {
			return omexerr.Modelf("model.truncated", "tensor data (%d bytes at data offset %d) runs past the end of the file (%d bytes of data)",
				t.Size, t.Offset, avail).WithFile(g.name).WithTensor(t.Name).WithOffset(int64(start + min(t.Offset, avail)))
		}
		if k > 0 && t.Offset < end {
			return omexerr.Modelf("model.corrupt", "tensor data at data offset %d overlaps tensor %q (ends at %d)", t.Offset, prev, end).
				WithFile(g.name).WithTensor(t.Name).WithOffset(int64(start + t.Offset))
		}
		end, prev = t.Offset+t.Size, t.Name
	}
	return nil
}

// baseName is the file's name without directory and extension, the model
// name of last resort.
func baseName(path string) string {
	b := filepath.Base(path)
	return b[:len(b)-len(filepath.Ext(b))]
}

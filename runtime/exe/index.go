package exe

import (
	"encoding/binary"
	"math"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// BlobAlign is the alignment of every tensor's data and scales inside the
// weights region: a cache line, and enough for any vector load.
const BlobAlign = 64

// maxRank bounds a tensor's number of dimensions in the index.
const maxRank = 8

// Index describes what the weights region holds: the model's shape, its
// tokenizer and where each tensor is. It is written after the weights and
// read back at start; docs/BUILD.md gives the byte layout.
type Index struct {
	Model     string // the model's name
	Config    model.Config
	Tokenizer tokenizer.Spec
	Tensors   []TensorEntry
}

// TensorEntry is one tensor's place in the weights region. Offsets are
// from the start of the region and multiples of BlobAlign.
type TensorEntry struct {
	Name        string
	DType       tensor.DType
	Layout      string // how the kernels want the data arranged; "" is row-major
	Shape       []int
	DataOff     uint64
	DataLen     uint64
	ScalesOff   uint64 // float32 little-endian, one per BlockSize elements (quantized only)
	ScalesCount uint64
}

// Elements returns the product of the shape.
func (e *TensorEntry) Elements() int {
	n := 1
	for _, d := range e.Shape {
		n *= d
	}
	return n
}

// Config flag bits.
const (
	cfgQKVBias = 1 << iota
	cfgOutputBias
	cfgTied
)

// Tokenizer flag bits.
const (
	tokAddBOS = 1 << iota
	tokAddEOS
	tokAddSpacePrefix
	tokByteFallback
	tokLowercase
	tokStripAccents
	tokIgnoreMerges
)

// MarshalBinary encodes the index (little-endian; strings and lists are
// prefixed by a uint32 count).
func (ix *Index) MarshalBinary() ([]byte, error) {
	var e encoder
	e.str(ix.Model)
	c := &ix.Config
	for _, v := range []int{c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.HeadDim, c.Vocab, c.SeqLen} {
		e.u32(uint32(v))
	}
	e.f32(c.RopeTheta)
	e.str(string(c.RopeLayout))
	e.f32(c.NormEps)
	e.u8(flagBits(c.QKVBias, c.OutputBias, c.Tied))

	s := &ix.Tokenizer
	e.str(string(s.Kind))
	e.strs(s.Tokens)
	e.u32(uint32(len(s.Scores)))
	for _, v := range s.Scores {
		e.f32(v)
	}
	e.u32(uint32(len(s.Types)))
	for _, v := range s.Types {
		e.u32(uint32(v))
	}
	e.strs(s.Merges)
	e.str(s.Pre)
	e.strs(s.PreRegex)
	for _, v := range []int{s.BOS, s.EOS, s.UNK, s.PAD} {
		e.u32(uint32(int32(v)))
	}
	e.u8(flagBits(s.AddBOS, s.AddEOS, s.AddSpacePrefix, s.ByteFallback, s.Lowercase, s.StripAccents, s.IgnoreMerges))

	e.u32(uint32(len(ix.Tensors)))
	for _, t := range ix.Tensors {
		e.str(t.Name)
		e.u32(uint32(t.DType))
		e.str(t.Layout)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(uint64(d))
		}
		e.u64(t.DataOff)
		e.u64(t.DataLen)
		e.u64(t.ScalesOff)
		e.u64(t.ScalesCount)
	}
	return e.b, nil
}

func flagBits(bits ...bool) uint8 {
	var f uint8
	for i, b := range bits {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// ParseIndex decodes an index and checks every tensor entry against the
// weights region of weightsLen bytes: a known dtype, a shape whose element
// count fits, data and scales of exactly the size the dtype needs, aligned
// and inside the region, and no name twice. base is the index's offset in
// the file, so errors name the file offset at fault. Bad input is a
// ModelError; nothing is allocated beyond what the index's own length
// allows.
func ParseIndex(b []byte, weightsLen uint64, file string, base int64) (*Index, error) {
	d := &decoder{b: b, file: file, base: base}
	ix := &Index{}
	ix.Model = d.str("model name")
	c := &ix.Config
	for _, p := range []*int{&c.Dim, &c.Hidden, &c.Layers, &c.Heads, &c.KVHeads, &c.HeadDim, &c.Vocab, &c.SeqLen} {
		*p = int(d.u32("config"))
	}
	c.RopeTheta = d.f32("config")
	c.RopeLayout = model.RopeLayout(d.str("rope layout"))
	c.NormEps = d.f32("config")
	f := d.u8("config flags")
	c.QKVBias, c.OutputBias, c.Tied = f&cfgQKVBias != 0, f&cfgOutputBias != 0, f&cfgTied != 0

	s := &ix.Tokenizer
	s.Kind = tokenizer.Kind(d.str("tokenizer kind"))
	s.Tokens = d.strs("tokens")
	if n := d.count("scores", 4); n > 0 {
		s.Scores = make([]float32, n)
		for i := range s.Scores {
			s.Scores[i] = d.f32("scores")
		}
	}
	if n := d.count("token types", 4); n > 0 {
		s.Types = make([]int32, n)
		for i := range s.Types {
			s.Types[i] = int32(d.u32("token types"))
		}
	}
	s.Merges = d.strs("merges")
	s.Pre = d.str("pre-tokenizer")
	s.PreRegex = d.strs("pre-tokenizer regexes")
	for _, p := range []*int{&s.BOS, &s.EOS, &s.UNK, &s.PAD} {
		*p = int(int32(d.u32("special tokens")))
	}
	f = d.u8("tokenizer flags")
	s.AddBOS, s.AddEOS, s.AddSpacePrefix = f&tokAddBOS != 0, f&tokAddEOS != 0, f&tokAddSpacePrefix != 0
	s.ByteFallback, s.Lowercase, s.StripAccents, s.IgnoreMerges = f&tokByteFallback != 0, f&tokLowercase != 0, f&tokStripAccents != 0, f&tokIgnoreMerges != 0

	// The smallest entry is 52 bytes (empty name and layout, rank 0).
	n := d.count("tensors", 52)
	seen := make(map[string]bool, n)
	for range n {
		if d.err != nil {
			break
		}
		at := d.off
		var t TensorEntry
		t.Name = d.str("tensor name")
		t.DType = tensor.DType(d.u32("tensor dtype"))
		t.Layout = d.str("tensor layout")
		rank := d.u32("tensor rank")
		if rank > maxRank {
			d.fail(at, "tensor %q has rank %d, more than %d", t.Name, rank, maxRank)
			break
		}
		t.Shape = make([]int, rank)
		for i := range t.Shape {
			v := d.u64("tensor shape")
			if v > math.MaxInt32 {
				d.fail(at, "tensor %q has a dimension of %d", t.Name, v)
			}
			t.Shape[i] = int(v)
		}
		t.DataOff, t.DataLen = d.u64("tensor data"), d.u64("tensor data")
		t.ScalesOff, t.ScalesCount = d.u64("tensor scales"), d.u64("tensor scales")
		if d.err != nil {
			break
		}
		if seen[t.Name] {
			d.fail(at, "tensor %q is listed twice", t.Name)
			break
		}
		seen[t.Name] = true
		if why := t.check(weightsLen); why != "" {
			d.fail(at, "tensor %q: %s", t.Name, why)
			break
		}
		ix.Tensors = append(ix.Tensors, t)
	}
	if d.err == nil && d.off != len(d.b) {
		d.fail(d.off, "%d bytes follow the index's last entry", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return ix, nil
}

// check returns what is wrong with t in a weights region of weightsLen
// bytes, or "".
func (t *TensorEntry) check(weightsLen uint64) string {
	if !t.DType.Valid() {
		return "unknown dtype " + t.DType.String()
	}
	n := uint64(1)
	for _, d := range t.Shape {
		// Dimensions are below 2^31; keep the product below 2^40 elements.
		if n *= uint64(d); n > 1<<40 {
			return "the shape has too many elements"
		}
	}
	var wantScales uint64
	if t.DType.Quantized() {
		if n%tensor.BlockSize != 0 {
			return "a quantized tensor whose element count is not a multiple of the block size"
		}
		wantScales = n / tensor.BlockSize
	}
	if want := uint64(t.DType.DataBytes64(int64(n))); t.DataLen != want {
		return "data length does not match the shape and dtype"
	}
	if t.ScalesCount != wantScales {
		return "scale count does not match the shape and dtype"
	}
	if !inside(t.DataOff, t.DataLen, weightsLen) || (wantScales > 0 && !inside(t.ScalesOff, 4*t.ScalesCount, weightsLen)) {
		return "data or scales lie outside the weights region or are not aligned"
	}
	return ""
}

// inside reports whether off..off+n lies in a region of size bytes and off
// is BlobAlign-aligned.
func inside(off, n, size uint64) bool {
	return off%BlobAlign == 0 && off <= size && n <= size-off
}

// encoder appends little-endian values.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) f32(v float32) {
	e.u32(math.Float32bits(v))
}
func (e *encoder) str(s string) { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *encoder) strs(ss []string) {
	e.u32(uint32(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

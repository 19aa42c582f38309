package exe

import (
	"errors"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// Bundle is what a produced executable carries after its code: the
// weights, memory-mapped where the system allows (read into memory
// elsewhere), and the index that names them. Tensors are views of the
// mapping, never copies.
type Bundle struct {
	File    string // the executable the bundle was read from
	Trailer Trailer
	Index   *Index
	Mapped  bool // the weights are memory-mapped rather than read
	weights []byte
	release func() error
	byName  map[string]*TensorEntry
}

// Open reads the trailer and index at the end of the file at path, checks
// them and the weights' checksum, and maps the weights. Every problem with
// the file's contents is a ModelError naming the file and the offset at
// fault.
func Open(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot open the executable to read its weights").WithFile(path).Wrap(err)
	}
	defer f.Close() // a mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot read the executable's size").WithFile(path).Wrap(err)
	}
	return openFrom(f, st.Size(), path, func(off, n int64) ([]byte, func() error, bool, error) { return mapRegion(f, off, n) })
}

// regionLoader returns n bytes of the file at off, a function that frees
// them, and whether they are memory-mapped.
type regionLoader func(off, n int64) ([]byte, func() error, bool, error)

// openFrom is Open over any reader of size bytes; load brings in the
// weights region.
func openFrom(r io.ReaderAt, size int64, file string, load regionLoader) (*Bundle, error) {
	var tb [TrailerSize]byte
	if size >= TrailerSize {
		if err := readFull(r, tb[:], size-TrailerSize, file); err != nil {
			return nil, err
		}
	}
	t, err := ParseTrailer(tb[:], size, file)
	if err != nil {
		return nil, err
	}
	// ParseTrailer checked that the index lies inside the file, so its
	// length is bounded by the file's real size.
	idx := make([]byte, t.IndexLen)
	if err := readFull(r, idx, int64(t.IndexOff), file); err != nil {
		return nil, err
	}
	if got := crc32.Checksum(idx, crcTable); got != t.IndexCRC {
		return nil, omexerr.Modelf("model.bad_executable", "the weights index is corrupt (checksum %08x, expected %08x)", got, t.IndexCRC).WithFile(file).WithOffset(int64(t.IndexOff))
	}
	ix, err := ParseIndex(idx, t.WeightsLen, file, int64(t.IndexOff))
	if err != nil {
		return nil, err
	}
	if t.WeightsLen > math.MaxInt/2 {
		return nil, omexerr.Resourcef("resource.address_space", "the weights (%d bytes) do not fit in this machine's address space", t.WeightsLen).WithFile(file)
	}
	w, release, mapped, err := load(int64(t.WeightsOff), int64(t.WeightsLen))
	if err != nil {
		return nil, err
	}
	if got := crc32.Checksum(w, crcTable); got != t.WeightsCRC {
		release()
		return nil, omexerr.Modelf("model.bad_executable", "the weights are corrupt (checksum %08x, expected %08x)", got, t.WeightsCRC).WithFile(file).WithOffset(int64(t.WeightsOff))
	}
	b := &Bundle{File: file, Trailer: t, Index: ix, Mapped: mapped, weights: w, release: release, byName: make(map[string]*TensorEntry, len(ix.Tensors))}
	for i := range ix.Tensors {
		b.byName[ix.Tensors[i].Name] = &ix.Tensors[i]
	}
	return b, nil
}

// readFull reads len(p) bytes at off; a short read means the file was cut.
func readFull(r io.ReaderAt, p []byte, off int64, file string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil // a ReaderAt may report io.EOF with the last bytes
	}
	if errors.Is(err, io.EOF) || err == nil {
		return omexerr.Modelf("model.truncated", "the executable ends before offset %d", off+int64(len(p))).WithFile(file).WithOffset(off)
	}
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot read the executable").WithFile(file).WithOffset(off).Wrap(err)
	}
	return nil
}

// Tensor returns the named tensor as a view of the weights (never a copy
// on little-endian machines); it is what model.New and generated models
// fetch their weights with. An unknown name is a ModelError.
func (b *Bundle) Tensor(name string) (*tensor.Tensor, error) {
	e, ok := b.byName[name]
	if !ok {
		return nil, omexerr.Modelf("model.missing_tensor", "the executable carries no tensor %s", name).WithFile(b.File).WithTensor(name)
	}
	t := &tensor.Tensor{Name: e.Name, DType: e.DType, Shape: slices.Clone(e.Shape)}
	t.Data = b.weights[e.DataOff : e.DataOff+e.DataLen : e.DataOff+e.DataLen]
	if e.ScalesCount > 0 {
		t.Scales = kernels.AsFloat32(b.weights[e.ScalesOff : e.ScalesOff+4*e.ScalesCount])
	}
	return t, nil
}

// Entry returns the index entry of the named tensor (its layout, offsets).
func (b *Bundle) Entry(name string) (TensorEntry, bool) {
	e, ok := b.byName[name]
	if !ok {
		return TensorEntry{}, false
	}
	return *e, true
}

// Config is the model's configuration.
func (b *Bundle) Config() model.Config { return b.Index.Config }

// Tokenizer is the tokenizer's description; tokenizer.New builds it.
func (b *Bundle) Tokenizer() tokenizer.Spec { return b.Index.Tokenizer }

// WeightBytes is the size of the weights region.
func (b *Bundle) WeightBytes() int64 { return int64(b.Trailer.WeightsLen) }

// Close unmaps the weights. Tensors from the bundle must not be used after.
func (b *Bundle) Close() error {
	if b.release == nil {
		return nil
	}
	err := b.release()
	b.release, b.weights = nil, nil
	return err
}

// readRegion reads n bytes at off into memory: the fallback where the
// system cannot map files.
func readRegion(r io.ReaderAt, off, n int64, file string) ([]byte, func() error, bool, error) {
	if n == 0 {
		return nil, func() error { return nil }, false, nil
	}
	p := make([]byte, n)
	if err := readFull(r, p, off, file); err != nil {
		return nil, nil, false, err
	}
	return p, func() error { return nil }, false, nil
}

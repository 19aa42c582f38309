// Package safetensors reads the safetensors file format: an 8-byte
// little-endian header length, a JSON header describing each tensor's dtype,
// shape and byte range, then the raw tensor data.
package safetensors

import (
	"io"
	"os"

	"github.com/omex-dev/omex/omexerr"
)

// MaxHeaderSize bounds the JSON header so a corrupt length cannot make us
// allocate gigabytes; the reference implementation uses the same limit.
const MaxHeaderSize = 100 << 20

// TensorInfo describes one tensor of a file as its header states it.
type TensorInfo struct {
	Name  string
	DType string // the safetensors dtype name, e.g. "F32", "BF16", "I64"
	Shape []int
	// Begin and End are the byte range of the data, relative to the start
	// of the data section (DataStart).
	Begin, End int64
}

// Size is the number of data bytes of the tensor.
func (t TensorInfo) Size() int64 { return t.End - t.Begin }

// File is a parsed safetensors file. It reads tensor data on demand.
type File struct {
	Name      string // the path (or label) used in errors
	Size      int64  // total file size in bytes
	DataStart int64  // file offset of the data section: 8 + header length
	// Tensors lists the tensors in file order (by data offset).
	Tensors []TensorInfo
	// Metadata is the header's "__metadata__" map (never nil).
	Metadata map[string]string

	r      io.ReaderAt
	closer io.Closer
	byName map[string]int
}

// Open opens and parses the safetensors file at path. Close releases it.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Inputf("input.open_failed", "cannot open safetensors file").WithFile(path).Wrap(err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, omexerr.Inputf("input.open_failed", "cannot stat safetensors file").WithFile(path).Wrap(err)
	}
	f, err := Parse(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// Close releases the underlying file when the File came from Open.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

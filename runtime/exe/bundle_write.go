package exe

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// BundleWriter appends the weights region, the index and the trailer to a
// program already written to w. Tensors are added one at a time, so a
// build holds one tensor in memory, not the model. The output depends only
// on what is added, in order: two builds of the same inputs are
// byte-identical.
type BundleWriter struct {
	w     io.Writer
	pos   int64 // bytes of the file written so far, program included
	align uint32
	start int64 // the weights region's offset in the file
	crc   uint32
	index Index
	tr    Trailer // set by Finish
	err   error
}

// NewBundleWriter starts the weights region after a program of programLen
// bytes already written to w, padding with zeros up to the next multiple
// of align (a power of two from BlobAlign to 16 MiB: the page size the
// weights are mapped with).
func NewBundleWriter(w io.Writer, programLen int64, align int) (*BundleWriter, error) {
	if align < BlobAlign || align > 1<<24 || align&(align-1) != 0 {
		return nil, omexerr.Inputf("input.bad_alignment", "weights alignment %d is not a power of two between %d and %d", align, BlobAlign, 1<<24)
	}
	bw := &BundleWriter{w: w, pos: programLen, align: uint32(align)}
	bw.pad(int64(align), false)
	bw.start = bw.pos
	return bw, bw.err
}

// write writes p, adding it to the weights checksum when weights is set.
func (bw *BundleWriter) write(p []byte, weights bool) {
	if bw.err != nil {
		return
	}
	if _, err := bw.w.Write(p); err != nil {
		bw.err = omexerr.Resourcef("resource.io", "cannot write the executable").Wrap(err)
		return
	}
	if weights {
		bw.crc = crc32.Update(bw.crc, crcTable, p)
	}
	bw.pos += int64(len(p))
}

var zeros [4096]byte

// pad writes zeros up to the next multiple of align.
func (bw *BundleWriter) pad(align int64, weights bool) {
	for n := (align - bw.pos%align) % align; n > 0; {
		k := min(n, int64(len(zeros)))
		bw.write(zeros[:k], weights)
		n -= k
	}
}

// Add appends one tensor's data (and scales, for quantized types), each
// aligned to BlobAlign, and records it in the index under t.Name with
// layout (the arrangement the kernels want; "" is row-major). A tensor
// whose data does not match its shape and dtype is refused.
func (bw *BundleWriter) Add(t *tensor.Tensor, layout string) error {
	if bw.err != nil {
		return bw.err
	}
	e := TensorEntry{Name: t.Name, DType: t.DType, Layout: layout, Shape: append([]int(nil), t.Shape...)}
	for _, d := range t.Shape {
		if d < 0 || d > math.MaxInt32 {
			return omexerr.Modelf("model.tensor_shape", "tensor %s has shape %v", t.Name, t.Shape).WithTensor(t.Name)
		}
	}
	for _, o := range bw.index.Tensors {
		if o.Name == t.Name {
			return omexerr.Modelf("model.duplicate_tensor", "tensor %s is added twice", t.Name).WithTensor(t.Name)
		}
	}
	bw.pad(BlobAlign, true)
	e.DataOff, e.DataLen = uint64(bw.pos-bw.start), uint64(len(t.Data))
	bw.write(t.Data, true)
	if len(t.Scales) > 0 {
		bw.pad(BlobAlign, true)
		e.ScalesOff, e.ScalesCount = uint64(bw.pos-bw.start), uint64(len(t.Scales))
		b := make([]byte, 0, 4*len(t.Scales))
		for _, s := range t.Scales {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
		}
		bw.write(b, true)
	}
	if bw.err != nil {
		return bw.err
	}
	// The reader checks entries against the whole region; here the region
	// ends at this tensor.
	if why := e.check(uint64(bw.pos - bw.start)); why != "" {
		bw.err = omexerr.Modelf("model.tensor_size", "tensor %s (%v %v): %s", t.Name, t.DType, t.Shape, why).WithTensor(t.Name)
		return bw.err
	}
	bw.index.Tensors = append(bw.index.Tensors, e)
	return nil
}

// Finish writes the index (the model's name, configuration and tokenizer,
// and the tensors added) and the trailer. Nothing may be added after it.
func (bw *BundleWriter) Finish(name string, cfg model.Config, spec tokenizer.Spec) error {
	if bw.err != nil {
		return bw.err
	}
	bw.pad(BlobAlign, true)
	t := Trailer{Align: bw.align, WeightsOff: uint64(bw.start), WeightsLen: uint64(bw.pos - bw.start), WeightsCRC: bw.crc}
	bw.index.Model, bw.index.Config, bw.index.Tokenizer = name, cfg, spec
	idx, err := bw.index.MarshalBinary()
	if err != nil {
		return err
	}
	t.IndexOff, t.IndexLen, t.IndexCRC = uint64(bw.pos), uint64(len(idx)), crc32.Checksum(idx, crcTable)
	bw.write(idx, false)
	bw.write(t.Append(nil), false)
	bw.tr = t
	if bw.err == nil {
		bw.err = errFinished
		return nil
	}
	return bw.err
}

// errFinished refuses use of a writer after Finish.
var errFinished = omexerr.Inputf("input.bundle_finished", "the weights bundle is already finished")

// Trailer is the trailer Finish wrote (zero before).
func (bw *BundleWriter) Trailer() Trailer { return bw.tr }

// Size is the number of bytes of the file written so far, program included.
func (bw *BundleWriter) Size() int64 { return bw.pos }

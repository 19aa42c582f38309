package safetensors

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// ReadRaw returns the named tensor's data bytes exactly as stored. The
// range was checked against the file size at Parse, so the allocation is
// bounded by the file.
func (f *File) ReadRaw(name string) ([]byte, error) {
	info, ok := f.Info(name)
	if !ok {
		return nil, omexerr.Modelf("model.missing_tensor", "no tensor %q in the file", name).WithFile(f.Name).WithTensor(name)
	}
	buf := make([]byte, info.Size())
	if len(buf) == 0 {
		return buf, nil
	}
	off := f.DataStart + info.Begin
	if _, err := f.r.ReadAt(buf, off); err != nil {
		return nil, omexerr.Modelf("model.truncated", "cannot read %d bytes of tensor %q", len(buf), name).
			WithFile(f.Name).WithTensor(name).WithOffset(off).Wrap(err)
	}
	return buf, nil
}

// ReadTensor loads the named tensor. F32, F16 and BF16 are kept as their
// little-endian bit patterns, which is both the file's and tensor.Tensor's
// layout; any other dtype is a model.unsupported_dtype error.
func (f *File) ReadTensor(name string) (*tensor.Tensor, error) {
	info, ok := f.Info(name)
	if !ok {
		return nil, omexerr.Modelf("model.missing_tensor", "no tensor %q in the file", name).WithFile(f.Name).WithTensor(name)
	}
	dt, ok := DTypeOf(info.DType)
	if !ok {
		return nil, omexerr.Modelf("model.unsupported_dtype", "tensor %q has dtype %s; only F32, F16 and BF16 are supported", name, info.DType).
			WithFile(f.Name).WithTensor(name).WithOffset(f.DataStart + info.Begin)
	}
	data, err := f.ReadRaw(name)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{Name: name, DType: dt, Shape: append([]int{}, info.Shape...), Data: data}, nil
}

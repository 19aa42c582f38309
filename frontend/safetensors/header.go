package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/omex-dev/omex/omexerr"
)

// Parse reads and validates the header of a safetensors file of size bytes
// read through r; name labels the file in errors. Every tensor's byte range
// is checked against the data section and its dtype and shape, and ranges
// may not overlap, so a later read can trust them.
func Parse(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 8 {
		return nil, omexerr.Modelf("model.truncated", "file of %d bytes is too short for a safetensors header length", size).
			WithFile(name).WithOffset(0)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, omexerr.Modelf("model.truncated", "cannot read the header length").WithFile(name).WithOffset(0).Wrap(err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, omexerr.Modelf("model.bad_header", "header length %d exceeds the %d-byte limit", n, MaxHeaderSize).
			WithFile(name).WithOffset(0)
	}
	if int64(n) > size-8 {
		return nil, omexerr.Modelf("model.truncated", "header length %d runs past the end of the %d-byte file", n, size).
			WithFile(name).WithOffset(0)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, omexerr.Modelf("model.truncated", "cannot read the %d-byte header", n).WithFile(name).WithOffset(8).Wrap(err)
	}
	f := &File{
		Name:      name,
		Size:      size,
		DataStart: 8 + int64(n),
		Metadata:  map[string]string{},
		r:         r,
		byName:    map[string]int{},
	}
	if err := f.parseHeader(hdr); err != nil {
		return nil, err
	}
	if err := f.checkRanges(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseHeader decodes the JSON header into f.Tensors and f.Metadata. It
// walks the top-level object token by token so that duplicate names are
// caught and errors can point at the entry's byte offset.
func (f *File) parseHeader(hdr []byte) error {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	bad := func(off int64, format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_header", format, args...).WithFile(f.Name).WithOffset(8 + off)
	}
	// The streaming decoder's syntax-error offsets are relative to the
	// value it was decoding; a whole-buffer check gives the absolute one
	// (its Offset counts the offending byte, hence the -1).
	jsonErr := func(err error) *omexerr.Error {
		off := dec.InputOffset()
		var raw json.RawMessage
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(hdr, &raw), &se) {
			err, off = se, max(se.Offset-1, 0)
		}
		return bad(off, "header is not valid JSON").Wrap(err)
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return bad(0, "header is not a JSON object")
	}
	seenMeta := false
	for dec.More() {
		entryOff := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return bad(entryOff, "header key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonErr(err)
		}
		if key == "__metadata__" {
			if seenMeta {
				return bad(entryOff, "duplicate __metadata__ entry")
			}
			seenMeta = true
			var meta map[string]string
			if err := json.Unmarshal(raw, &meta); err != nil {
				return bad(entryOff, "__metadata__ is not a map of strings to strings").Wrap(err)
			}
			for k, v := range meta {
				f.Metadata[k] = v
			}
			continue
		}
		if _, dup := f.byName[key]; dup {
			return bad(entryOff, "tensor %q is listed twice", key).WithTensor(key)
		}
		info, err := parseEntry(key, raw)
		if err != nil {
			return bad(entryOff, "bad entry for tensor %q: %v", key, err).WithTensor(key)
		}
		if _, known := dtypeBits[info.DType]; !known {
			return omexerr.Modelf("model.unsupported_dtype", "tensor %q has unknown dtype %q", key, info.DType).
				WithFile(f.Name).WithTensor(key).WithOffset(8 + entryOff)
		}
		if err := checkSize(info); err != nil {
			return omexerr.Modelf("model.bad_tensor", "tensor %q: %v", key, err).
				WithFile(f.Name).WithTensor(key).WithOffset(8 + entryOff)
		}
		f.byName[key] = len(f.Tensors)
		f.Tensors = append(f.Tensors, info)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return jsonErr(err)
	}
	// The format pads the header with spaces; anything else after the
	// object is corruption.
	if _, err := dec.Token(); err != io.EOF {
		return bad(dec.InputOffset(), "trailing data after the header object")
	}
	return nil
}

// parseEntry decodes one tensor description. Keys are matched exactly (the
// std decoder would also accept "DType"), and unknown keys are ignored as the
// reference implementation does.
func parseEntry(name string, raw json.RawMessage) (TensorInfo, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return TensorInfo{}, errors.New("not a JSON object")
	}
	info := TensorInfo{Name: name}
	dt, ok := fields["dtype"]
	if !ok {
		return info, errors.New("missing dtype")
	}
	if err := json.Unmarshal(dt, &info.DType); err != nil {
		return info, errors.New("dtype is not a string")
	}
	sh, ok := fields["shape"]
	if !ok {
		return info, errors.New("missing shape")
	}
	dims, err := naturals(sh)
	if err != nil {
		return info, errors.New("shape: " + err.Error())
	}
	info.Shape = make([]int, len(dims))
	for i, d := range dims {
		if int64(int(d)) != d {
			return info, errors.New("shape: dimension too large for this machine")
		}
		info.Shape[i] = int(d)
	}
	if info.Shape == nil {
		info.Shape = []int{}
	}
	off, ok := fields["data_offsets"]
	if !ok {
		return info, errors.New("missing data_offsets")
	}
	offs, err := naturals(off)
	if err != nil {
		return info, errors.New("data_offsets: " + err.Error())
	}
	if len(offs) != 2 {
		return info, errors.New("data_offsets must hold exactly [begin, end]")
	}
	info.Begin, info.End = offs[0], offs[1]
	return info, nil
}

// naturals decodes a JSON array of non-negative integers that fit an int64.
func naturals(raw json.RawMessage) ([]int64, error) {
	var nums []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&nums); err != nil || nums == nil {
		return nil, errors.New("not an array of numbers")
	}
	out := make([]int64, len(nums))
	for i, n := range nums {
		v, err := n.Int64()
		if err != nil || v < 0 {
			return nil, errors.New("value " + n.String() + " is not a non-negative integer")
		}
		out[i] = v
	}
	return out, nil
}

// checkSize verifies that the byte range holds exactly the elements the
// shape and dtype call for, without overflowing on absurd shapes.
func checkSize(info TensorInfo) error {
	if info.Begin > info.End {
		return errors.New("data_offsets begin after end")
	}
	elems := int64(1)
	for _, d := range info.Shape {
		if d != 0 && elems > math.MaxInt64/int64(d) {
			return errors.New("element count overflows")
		}
		elems *= int64(d)
	}
	bits := dtypeBits[info.DType]
	if elems > math.MaxInt64/bits {
		return errors.New("byte size overflows")
	}
	if elems*bits%8 != 0 {
		return errors.New("elements do not fill whole bytes")
	}
	want := elems * bits / 8
	if info.End-info.Begin != want {
		return fmt.Errorf("data_offsets span %d bytes but %s of shape %v needs %d", info.End-info.Begin, info.DType, info.Shape, want)
	}
	return nil
}

// checkRanges puts the tensors in file order and checks that every range
// lies inside the data section and that no two overlap.
func (f *File) checkRanges() error {
	sort.SliceStable(f.Tensors, func(i, j int) bool {
		a, b := f.Tensors[i], f.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	dataLen := f.Size - f.DataStart
	var prevEnd int64
	prev := ""
	for i, t := range f.Tensors {
		f.byName[t.Name] = i
		if t.End > dataLen {
			return omexerr.Modelf("model.truncated", "tensor %q data [%d, %d) runs past the end of the %d-byte data section", t.Name, t.Begin, t.End, dataLen).
				WithFile(f.Name).WithTensor(t.Name).WithOffset(f.DataStart + t.Begin)
		}
		// An empty tensor holds no bytes, so it cannot overlap anything.
		if t.Begin < prevEnd && t.Begin != t.End {
			return omexerr.Modelf("model.bad_tensor", "tensor %q data overlaps tensor %q", t.Name, prev).
				WithFile(f.Name).WithTensor(t.Name).WithOffset(f.DataStart + t.Begin)
		}
		if t.End > prevEnd {
			prevEnd, prev = t.End, t.Name
		}
	}
	return nil
}

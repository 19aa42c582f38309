package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Entry is one tensor to write: its safetensors dtype name, shape and raw
// little-endian data.
type Entry struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// Write writes entries as a safetensors file, in the given order, with the
// optional metadata map. It is what tests and exporters use to produce files
// the reference implementation accepts: contiguous data, a header padded
// with spaces to a multiple of 8 bytes.
func Write(w io.Writer, entries []Entry, metadata map[string]string) error {
	type jsonEntry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, e := range entries {
		if e.Name == "__metadata__" {
			return fmt.Errorf("safetensors: tensor name %q is reserved", e.Name)
		}
		if _, dup := header[e.Name]; dup {
			return fmt.Errorf("safetensors: tensor %q given twice", e.Name)
		}
		bits, ok := dtypeBits[e.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", e.Name, e.DType)
		}
		elems := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d != 0 && elems > math.MaxInt64/bits/int64(d)) {
				return fmt.Errorf("safetensors: tensor %q: bad shape %v", e.Name, e.Shape)
			}
			elems *= int64(d)
		}
		if elems*bits%8 != 0 || int64(len(e.Data)) != elems*bits/8 {
			return fmt.Errorf("safetensors: tensor %q: %d data bytes do not match %s%v", e.Name, len(e.Data), e.DType, e.Shape)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		header[e.Name] = jsonEntry{e.DType, shape, [2]int64{off, off + int64(len(e.Data))}}
		off += int64(len(e.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := w.Write(e.Data); err != nil {
			return err
		}
	}
	return nil
}

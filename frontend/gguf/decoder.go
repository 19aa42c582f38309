package gguf

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"

	"github.com/omex-dev/omex/omexerr"
)

// maxArrayDepth bounds nested metadata arrays; real files nest at most once.
const maxArrayDepth = 8

// decoder reads the GGUF header sequentially, tracking the byte offset and
// checking every length against the bytes left in the file before it
// allocates anything for it.
type decoder struct {
	br   *bufio.Reader
	off  int64
	size int64
	name string
	buf  [8]byte
}

func newDecoder(r io.ReaderAt, size int64, name string) *decoder {
	return &decoder{
		br:   bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16),
		size: size,
		name: name,
	}
}

// corrupt is a ModelError about a bad value found at offset off.
func (d *decoder) corrupt(off int64, format string, args ...any) *omexerr.Error {
	return omexerr.Modelf("model.corrupt", format, args...).WithFile(d.name).WithOffset(off)
}

// truncated is a ModelError for a read of n bytes of what that runs past the
// end of the file.
func (d *decoder) truncated(n uint64, what string) *omexerr.Error {
	return omexerr.Modelf("model.truncated", "%s needs %d bytes but only %d remain", what, n, d.size-d.off).
		WithFile(d.name).WithOffset(d.off)
}

// remaining is the number of bytes after the current offset.
func (d *decoder) remaining() uint64 { return uint64(d.size - d.off) }

// need fails unless n more bytes exist.
func (d *decoder) need(n uint64, what string) error {
	if n > d.remaining() {
		return d.truncated(n, what)
	}
	return nil
}

// read fills p from the file.
func (d *decoder) read(p []byte, what string) error {
	if err := d.need(uint64(len(p)), what); err != nil {
		return err
	}
	if _, err := io.ReadFull(d.br, p); err != nil {
		return omexerr.Modelf("model.read", "reading %s", what).WithFile(d.name).WithOffset(d.off).Wrap(err)
	}
	d.off += int64(len(p))
	return nil
}

func (d *decoder) u8(what string) (uint8, error) {
	err := d.read(d.buf[:1], what)
	return d.buf[0], err
}

func (d *decoder) u16(what string) (uint16, error) {
	err := d.read(d.buf[:2], what)
	return binary.LittleEndian.Uint16(d.buf[:2]), err
}

func (d *decoder) u32(what string) (uint32, error) {
	err := d.read(d.buf[:4], what)
	return binary.LittleEndian.Uint32(d.buf[:4]), err
}

func (d *decoder) u64(what string) (uint64, error) {
	err := d.read(d.buf[:8], what)
	return binary.LittleEndian.Uint64(d.buf[:8]), err
}

// str reads a GGUF string: a u64 byte length, then the bytes.
func (d *decoder) str(what string) (string, error) {
	start := d.off
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", omexerr.Modelf("model.truncated", "%s length %d exceeds the %d bytes left", what, n, d.remaining()).
			WithFile(d.name).WithOffset(start)
	}
	b := make([]byte, n)
	if err := d.read(b, what); err != nil {
		return "", err
	}
	return string(b), nil
}

// value reads one metadata value of type t.
func (d *decoder) value(t ValueType, what string, depth int) (any, error) {
	switch t {
	case TypeUint8:
		return d.u8(what)
	case TypeInt8:
		v, err := d.u8(what)
		return int8(v), err
	case TypeUint16:
		return d.u16(what)
	case TypeInt16:
		v, err := d.u16(what)
		return int16(v), err
	case TypeUint32:
		return d.u32(what)
	case TypeInt32:
		v, err := d.u32(what)
		return int32(v), err
	case TypeFloat32:
		v, err := d.u32(what)
		return math.Float32frombits(v), err
	case TypeBool:
		off := d.off
		v, err := d.u8(what)
		if err == nil && v > 1 {
			return nil, d.corrupt(off, "%s: bool byte is %d, not 0 or 1", what, v)
		}
		return v == 1, err
	case TypeString:
		return d.str(what)
	case TypeArray:
		return d.array(what, depth)
	case TypeUint64:
		return d.u64(what)
	case TypeInt64:
		v, err := d.u64(what)
		return int64(v), err
	case TypeFloat64:
		v, err := d.u64(what)
		return math.Float64frombits(v), err
	}
	return nil, d.corrupt(d.off, "%s: unknown value type %d", what, uint32(t))
}

// array reads an array value: element type, u64 count, elements.
func (d *decoder) array(what string, depth int) (*Array, error) {
	start := d.off
	if depth >= maxArrayDepth {
		return nil, d.corrupt(start, "%s: arrays nested deeper than %d", what, maxArrayDepth)
	}
	et, err := d.u32(what + " element type")
	if err != nil {
		return nil, err
	}
	elem := ValueType(et)
	if !elem.valid() {
		return nil, d.corrupt(start, "%s: unknown array element type %d", what, et)
	}
	countOff := d.off
	n, err := d.u64(what + " count")
	if err != nil {
		return nil, err
	}
	// Every element takes at least minSize bytes, so a count the rest of the
	// file cannot hold is rejected before the slice is made.
	if n > d.remaining()/elem.minSize() {
		return nil, omexerr.Modelf("model.truncated", "%s: %d %s elements cannot fit in the %d bytes left",
			what, n, elem, d.remaining()).WithFile(d.name).WithOffset(countOff)
	}
	a := &Array{Elem: elem}
	switch elem {
	case TypeUint8:
		v := make([]uint8, n)
		err = d.read(v, what)
		a.Values = v
	case TypeInt8:
		raw := make([]uint8, n)
		err = d.read(raw, what)
		v := make([]int8, n)
		for i, x := range raw {
			v[i] = int8(x)
		}
		a.Values = v
	case TypeBool:
		v := make([]bool, n)
		for i := 0; i < len(v) && err == nil; i++ {
			off := d.off
			var x uint8
			if x, err = d.u8(what); err == nil && x > 1 {
				err = d.corrupt(off, "%s: bool byte is %d, not 0 or 1", what, x)
			}
			v[i] = x == 1
		}
		a.Values = v
	case TypeUint16:
		v := make([]uint16, n)
		for i := 0; i < len(v) && err == nil; i++ {
			v[i], err = d.u16(what)
		}
		a.Values = v
	case TypeInt16:
		v := make([]int16, n)
		for i := 0; i < len(v) && err == nil; i++ {
			var x uint16
			x, err = d.u16(what)
			v[i] = int16(x)
		}
		a.Values = v
	case TypeUint32:
		v := make([]uint32, n)
		for i := 0; i < len(v) && err == nil; i++ {
			v[i], err = d.u32(what)
		}
		a.Values = v
	case TypeInt32:
		v := make([]int32, n)
		for i := 0; i < len(v) && err == nil; i++ {
			var x uint32
			x, err = d.u32(what)
			v[i] = int32(x)
		}
		a.Values = v
	case TypeFloat32:
		v := make([]float32, n)
		for i := 0; i < len(v) && err == nil; i++ {
			var x uint32
			x, err = d.u32(what)
			v[i] = math.Float32frombits(x)
		}
		a.Values = v
	case TypeUint64:
		v := make([]uint64, n)
		for i := 0; i < len(v) && err == nil; i++ {
			v[i], err = d.u64(what)
		}
		a.Values = v
	case TypeInt64:
		v := make([]int64, n)
		for i := 0; i < len(v) && err == nil; i++ {
			var x uint64
			x, err = d.u64(what)
			v[i] = int64(x)
		}
		a.Values = v
	case TypeFloat64:
		v := make([]float64, n)
		for i := 0; i < len(v) && err == nil; i++ {
			var x uint64
			x, err = d.u64(what)
			v[i] = math.Float64frombits(x)
		}
		a.Values = v
	case TypeString:
		v := make([]string, n)
		for i := 0; i < len(v) && err == nil; i++ {
			v[i], err = d.str(what)
		}
		a.Values = v
	case TypeArray:
		v := make([]*Array, n)
		for i := 0; i < len(v) && err == nil; i++ {
			v[i], err = d.array(what, depth+1)
		}
		a.Values = v
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

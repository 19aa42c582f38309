package exe

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/omex-dev/omex/omexerr"
)

// The trailer is the last TrailerSize bytes of a produced executable. It
// says where the weights and the index are, so the program can find them
// in its own file without knowing how long its code is. docs/BUILD.md
// gives the byte layout.
const (
	TrailerSize    = 64
	TrailerVersion = 1
	trailerMagic   = "OMEXWGT\x01"
)

// crcTable is CRC-32C (Castagnoli): hardware-accelerated on amd64 and
// arm64, so checking every weight byte at start costs little.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Trailer locates the appended weights and index. Offsets are from the
// start of the file.
type Trailer struct {
	Align      uint32 // the weights' start is a multiple of this (a page size)
	WeightsOff uint64
	WeightsLen uint64
	IndexOff   uint64
	IndexLen   uint64
	WeightsCRC uint32 // CRC-32C of the weights region
	IndexCRC   uint32 // CRC-32C of the index
}

// Append encodes t and appends it to b.
func (t Trailer) Append(b []byte) []byte {
	var e [TrailerSize]byte
	le := binary.LittleEndian
	le.PutUint32(e[0:], TrailerVersion)
	le.PutUint32(e[4:], t.Align)
	le.PutUint64(e[8:], t.WeightsOff)
	le.PutUint64(e[16:], t.WeightsLen)
	le.PutUint64(e[24:], t.IndexOff)
	le.PutUint64(e[32:], t.IndexLen)
	le.PutUint32(e[40:], t.WeightsCRC)
	le.PutUint32(e[44:], t.IndexCRC)
	le.PutUint32(e[48:], crc32.Checksum(e[:48], crcTable))
	// e[52:56] stays zero (reserved).
	copy(e[56:], trailerMagic)
	return append(b, e[:]...)
}

// ParseTrailer decodes the trailer b (the last TrailerSize bytes of a file
// of fileSize bytes) and checks that the regions it describes lie inside
// the file in order: program, weights, index, trailer. file names the
// executable in errors.
func ParseTrailer(b []byte, fileSize int64, file string) (Trailer, error) {
	start := fileSize - TrailerSize
	bad := func(at int64, format string, args ...any) (Trailer, error) {
		return Trailer{}, omexerr.Modelf("model.bad_executable", format, args...).WithFile(file).WithOffset(at)
	}
	if fileSize < TrailerSize || len(b) != TrailerSize {
		return bad(0, "the file is %d bytes, too short to hold the weights trailer (%d bytes): it is truncated or was not built by omexc build", fileSize, TrailerSize)
	}
	if string(b[56:]) != trailerMagic {
		return bad(start+56, "no OMEX weights trailer at the end of the file: it is truncated, was changed after omexc build, or was not built by it")
	}
	le := binary.LittleEndian
	if got, want := le.Uint32(b[48:]), crc32.Checksum(b[:48], crcTable); got != want {
		return bad(start+48, "the weights trailer is corrupt (checksum %08x, computed %08x)", got, want)
	}
	if v := le.Uint32(b[0:]); v != TrailerVersion {
		return bad(start, "weights trailer version %d; this program reads version %d", v, TrailerVersion)
	}
	t := Trailer{
		Align:      le.Uint32(b[4:]),
		WeightsOff: le.Uint64(b[8:]),
		WeightsLen: le.Uint64(b[16:]),
		IndexOff:   le.Uint64(b[24:]),
		IndexLen:   le.Uint64(b[32:]),
		WeightsCRC: le.Uint32(b[40:]),
		IndexCRC:   le.Uint32(b[44:]),
	}
	end := uint64(start)
	switch {
	case t.Align < BlobAlign || t.Align > 1<<24 || t.Align&(t.Align-1) != 0:
		return bad(start+4, "weights alignment %d is not a power of two between %d and %d", t.Align, BlobAlign, 1<<24)
	case t.WeightsOff%uint64(t.Align) != 0:
		return bad(start+8, "the weights start at %d, not a multiple of the alignment %d", t.WeightsOff, t.Align)
	case t.WeightsOff > end || t.WeightsLen > end-t.WeightsOff:
		return bad(start+8, "the weights (%d bytes at %d) run past the trailer at %d: the file is truncated", t.WeightsLen, t.WeightsOff, start)
	case t.IndexOff < t.WeightsOff+t.WeightsLen:
		return bad(start+24, "the index at %d overlaps the weights ending at %d", t.IndexOff, t.WeightsOff+t.WeightsLen)
	case t.IndexOff > end || t.IndexLen != end-t.IndexOff:
		return bad(start+24, "the index (%d bytes at %d) does not end where the trailer starts (%d): the file is truncated or was changed", t.IndexLen, t.IndexOff, start)
	}
	return t, nil
}

package exe

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/omex-dev/omex/omexerr"
)

// decoder reads little-endian values from an index. The first problem
// sticks in err (a ModelError naming the file offset) and every later read
// returns zero, so the parser reads straight through and checks once.
type decoder struct {
	b    []byte
	off  int
	file string
	base int64 // the index's offset in the file
	err  error
}

func (d *decoder) fail(at int, format string, args ...any) {
	if d.err == nil {
		d.err = omexerr.Modelf("model.bad_executable", "the weights index is corrupt: %s", fmt.Sprintf(format, args...)).
			WithFile(d.file).WithOffset(d.base + int64(at))
	}
}

// take returns the next n bytes, or nil after a failure.
func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail(d.off, "%s: needs %d bytes, %d left", what, n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(what string) uint8 {
	if p := d.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if p := d.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if p := d.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) f32(what string) float32 { return math.Float32frombits(d.u32(what)) }

func (d *decoder) str(what string) string {
	n := d.u32(what)
	if n > uint32(len(d.b)) {
		d.fail(d.off-4, "%s: a string of %d bytes in an index of %d", what, n, len(d.b))
		return ""
	}
	return string(d.take(int(n), what))
}

// count reads a list length and checks that the list, at minSize bytes per
// item, fits in what is left, so a corrupt count cannot make the parser
// allocate more than the index's size.
func (d *decoder) count(what string, minSize int) int {
	at := d.off
	n := d.u32(what)
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.b)-d.off) {
		d.fail(at, "%s: %d entries cannot fit in the %d bytes left", what, n, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

// strs reads a counted list of strings (nil when empty).
func (d *decoder) strs(what string) []string {
	n := d.count(what, 4)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str(what)
	}
	return out
}

package llama2c

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// wantModelError checks that err is an *omexerr.Error of category Model
// naming file and an offset, and returns it.
func wantModelError(t *testing.T, err error, file string) *omexerr.Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var e *omexerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v is not an *omexerr.Error", err, err)
	}
	if e.Category != omexerr.Model || e.File != file {
		t.Fatalf("got %v (category %v, file %q), want a ModelError on %s", err, e.Category, e.File, file)
	}
	return e
}

// corpus is the files the corruption tests damage: the two real
// checkpoints when present, and synthetic files of every version.
func corpus(t *testing.T) map[string][]byte {
	m := newSynth(32, 40, 2, 4, 2, 12, 8, false, 7)
	v2, _ := m.version2(32)
	files := map[string][]byte{"synth_v0.bin": m.legacy(), "synth_v1.bin": m.version1(), "synth_v2.bin": v2}
	if testing.Short() {
		return files
	}
	files["stories260K.bin"] = readShared(t, "stories260K.bin")
	files["stories260K_q80.bin"] = readShared(t, "stories260K_q80.bin")
	return files
}

// cutPoints are truncation lengths: every byte of the header region and
// then points spread through the data, plus the last few bytes.
func cutPoints(size int) []int {
	var cuts []int
	for n := 0; n <= 300 && n < size; n++ {
		cuts = append(cuts, n)
	}
	for n := 301; n < size; n += 1 + size/997 {
		cuts = append(cuts, n)
	}
	for n := max(0, size-9); n < size; n++ {
		cuts = append(cuts, n)
	}
	return cuts
}

func TestTruncated(t *testing.T) {
	for name, file := range corpus(t) {
		cuts := cutPoints(len(file))
		for _, n := range cuts {
			_, err := Parse(bytes.NewReader(file[:n]), int64(n), name, specOf(512))
			e := wantModelError(t, err, name)
			if e.Offset < 0 || e.Offset > int64(n) {
				t.Fatalf("%s cut at %d: offset %d outside the file: %v", name, n, e.Offset, err)
			}
			// Past the header, the error says where the data ran out.
			hdr := 256
			if name == "synth_v0.bin" || name == "stories260K.bin" {
				hdr = 28
			}
			if n >= hdr && (e.Code != "model.truncated" || e.Offset != int64(n) || e.Tensor == "") {
				t.Fatalf("%s cut at %d: got %v, want model.truncated at offset %d naming a tensor", name, n, err, n)
			}
		}
		t.Logf("%s: %d cut points, all ModelErrors", name, len(cuts))
	}
}

func TestTrailingBytes(t *testing.T) {
	for name, file := range corpus(t) {
		for _, extra := range []int{1, 3, 4, 100} {
			long := append(bytes.Clone(file), make([]byte, extra)...)
			_, err := Parse(bytes.NewReader(long), int64(len(long)), name, specOf(512))
			if e := wantModelError(t, err, name); e.Code != "model.trailing_bytes" || e.Offset != int64(len(file)) {
				t.Errorf("%s + %d bytes: got %v, want model.trailing_bytes at %d", name, extra, err, len(file))
			}
		}
	}
}

// withInt32 returns a copy of file with the int32 at off set to v.
func withInt32(file []byte, off int, v int32) []byte {
	out := bytes.Clone(file)
	binary.LittleEndian.PutUint32(out[off:], uint32(v))
	return out
}

func TestCorruptHeaderFields(t *testing.T) {
	bad := []int32{0, -1, -7, 1 << 30, 0x7fffffff, -0x80000000}
	for name, file := range corpus(t) {
		base := 8
		if name == "synth_v0.bin" || name == "stories260K.bin" {
			base = 0
		}
		for field := 0; field < 7; field++ {
			off := base + 4*field
			for _, v := range bad {
				if field == 5 && base == 0 && v < 0 && v > -(1<<24) {
					continue // a negative legacy vocab size is valid: it means an unshared classifier
				}
				f := withInt32(file, off, v)
				_, err := Parse(bytes.NewReader(f), int64(len(f)), name, specOf(512))
				if e := wantModelError(t, err, name); e.Code != "model.bad_header" || e.Offset != int64(off) {
					t.Errorf("%s %s=%d: got %v, want model.bad_header at offset %d", name, paramNames[field], v, err, off)
				}
			}
		}
	}
}

func TestCorruptHeaderConsistency(t *testing.T) {
	q80 := readShared(t, "stories260K_q80.bin")
	legacy := readShared(t, "stories260K.bin")
	cases := []struct {
		name string
		file []byte
		code string
		off  int64
	}{
		{"version 3", withInt32(q80, 4, 3), "model.unsupported_version", 4},
		{"version 0", withInt32(q80, 4, 0), "model.unsupported_version", 4},
		{"version -1", withInt32(q80, 4, -1), "model.unsupported_version", 4},
		{"shared flag 2", func() []byte { f := bytes.Clone(q80); f[36] = 2; return f }(), "model.bad_header", 36},
		{"group size 0", withInt32(q80, 37, 0), "model.bad_header", 37},
		{"group size -32", withInt32(q80, 37, -32), "model.bad_header", 37},
		{"group size huge", withInt32(q80, 37, 1<<30), "model.bad_header", 37},
		{"group size 33", withInt32(q80, 37, 33), "model.bad_group_size", 3072},
		{"group size 16", withInt32(q80, 37, 16), "model.truncated", int64(len(q80))},
		{"heads not dividing dim", withInt32(legacy, 12, 7), "model.bad_header", 12},
		{"kv heads not dividing heads", withInt32(legacy, 16, 3), "model.bad_header", 16},
		{"odd head dim", withInt32(withInt32(legacy, 12, 64), 16, 64), "model.bad_header", 0},
		{"more layers", withInt32(legacy, 8, 6), "model.truncated", int64(len(legacy))},
		{"fewer layers", withInt32(legacy, 8, 4), "model.trailing_bytes", -2},
		{"unshared legacy", withInt32(legacy, 20, -512), "model.truncated", int64(len(legacy))},
		{"unshared q80", func() []byte { f := bytes.Clone(q80); f[36] = 0; return f }(), "model.truncated", int64(len(q80))},
	}
	for _, tc := range cases {
		_, err := Parse(bytes.NewReader(tc.file), int64(len(tc.file)), "m.bin", specOf(512))
		e := wantModelError(t, err, "m.bin")
		if e.Code != tc.code || (tc.off != -2 && e.Offset != tc.off) || e.Offset < 0 {
			t.Errorf("%s: got %v, want %s at offset %d", tc.name, err, tc.code, tc.off)
		}
	}
}

// TestHugeHeaderSmallFile checks that a header claiming an enormous model
// costs no memory beyond the file: nothing is sized from the header before
// the file is known to hold it.
func TestHugeHeaderSmallFile(t *testing.T) {
	hdr := make([]byte, 28+4096)
	for i, v := range []int32{1 << 20, 1 << 22, 4096, 1 << 10, 1 << 10, 1 << 24, 1 << 24} {
		binary.LittleEndian.PutUint32(hdr[4*i:], uint32(v))
	}
	_, err := Parse(bytes.NewReader(hdr), int64(len(hdr)), "huge.bin", specOf(0))
	if e := wantModelError(t, err, "huge.bin"); e.Code != "model.truncated" || e.Offset != int64(len(hdr)) {
		t.Errorf("got %v, want model.truncated at %d", err, len(hdr))
	}
	// Average over many runs so the test framework's own allocations vanish.
	const runs = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		Parse(bytes.NewReader(hdr), int64(len(hdr)), "huge.bin", specOf(0))
	}
	runtime.ReadMemStats(&after)
	if d := (after.TotalAlloc - before.TotalAlloc) / runs; d > 64<<10 {
		t.Errorf("parsing a %d-byte file allocated %d bytes", len(hdr), d)
	} else {
		t.Logf("parsing a %d-byte file claiming a huge model allocated %d bytes", len(hdr), d)
	}
}

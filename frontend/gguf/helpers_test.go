package gguf

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// testdataDir returns ../shared/testdata beside the module root, or skips.
func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the test directory")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("shared test data not found at %s; these tests need the real GGUF files", td)
	}
	return td
}

// testFile returns the path of a file under the shared test data, or skips.
func testFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(testdataDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("test file %s is absent", p)
	}
	return p
}

// allGGUF lists every GGUF file in the shared test data.
func allGGUF(t testing.TB) []string {
	td := testdataDir(t)
	var out []string
	for _, pat := range []string{"models/*/*.gguf", "tokenizers/vocab-tests/*.gguf", "tokenizers/vocab-extra/*.gguf"} {
		m, _ := filepath.Glob(filepath.Join(td, pat))
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Skip("no GGUF files in the shared test data")
	}
	return out
}

// wantModelError fails unless err is a ModelError naming file name.
func wantModelError(t testing.TB, err error, name string) *omexerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a ModelError")
	}
	e, ok := omexerr.As(err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *omexerr.Error", err, err)
	}
	if e.Category != omexerr.Model {
		t.Fatalf("category %v, want ModelError: %v", e.Category, e)
	}
	if e.File != name {
		t.Fatalf("error names file %q, want %q: %v", e.File, name, e)
	}
	return e
}

// builder writes synthetic GGUF files for the corruption tests.
type builder struct {
	bytes.Buffer
}

func (b *builder) u32(v uint32) *builder { binary.Write(&b.Buffer, binary.LittleEndian, v); return b }
func (b *builder) u64(v uint64) *builder { binary.Write(&b.Buffer, binary.LittleEndian, v); return b }
func (b *builder) str(s string) *builder { b.u64(uint64(len(s))); b.WriteString(s); return b }

// kvString writes a string metadata pair.
func (b *builder) kvString(k, v string) *builder { return b.str(k).u32(uint32(TypeString)).str(v) }

// kvU32 writes a uint32 metadata pair.
func (b *builder) kvU32(k string, v uint32) *builder { return b.str(k).u32(uint32(TypeUint32)).u32(v) }

// synthTensor is a tensor for a synthetic file: GGUF dims and raw data.
type synthTensor struct {
	name string
	dims []uint64
	typ  GGMLType
	data []byte
}

// synthFile builds a GGUF v3 file with a small tokenizer, the given extra
// metadata writer and tensors laid out back to back at 32-byte alignment.
func synthFile(extraKVs int, kvs func(b *builder), tensors []synthTensor) []byte {
	var b builder
	b.WriteString("GGUF")
	b.u32(3).u64(uint64(len(tensors))).u64(uint64(3 + extraKVs))
	b.kvString("general.architecture", "llama")
	b.kvString("tokenizer.ggml.model", "llama")
	b.str("tokenizer.ggml.tokens").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(3)
	b.str("<unk>").str("<s>").str("</s>")
	if kvs != nil {
		kvs(&b)
	}
	var off uint64
	for _, t := range tensors {
		b.str(t.name).u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			b.u64(d)
		}
		b.u32(uint32(t.typ)).u64(off)
		off += (uint64(len(t.data)) + 31) / 32 * 32
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	for _, t := range tensors {
		b.Write(t.data)
		for b.Len()%32 != 0 {
			b.WriteByte(0)
		}
	}
	return b.Bytes()
}

// minimalFile is a tiny valid GGUF: three tokens and one 4x2 F32 tensor.
func minimalFile() []byte {
	data := make([]byte, 32)
	for i := range 8 {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(i)*0x3f800000/8)
	}
	return synthFile(0, nil, []synthTensor{{"w.weight", []uint64{4, 2}, GGMLF32, data}})
}

package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

func f32Bytes(vals ...float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func encode(t testing.TB, entries []Entry, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, entries, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sample is a small file with every loadable dtype, an unloadable one, a
// scalar and an empty tensor.
func sample(t testing.TB) ([]Entry, []byte) {
	entries := []Entry{
		{Name: "b.f32", DType: "F32", Shape: []int{2, 3}, Data: f32Bytes(1, 2, 3, 4, 5, 6)},
		{Name: "a.f16", DType: "F16", Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}},
		{Name: "c.bf16", DType: "BF16", Shape: []int{1, 2}, Data: []byte{0x80, 0x3f, 0x00, 0x40}},
		{Name: "ids", DType: "I64", Shape: []int{2}, Data: make([]byte, 16)},
		{Name: "scalar", DType: "F32", Shape: []int{}, Data: f32Bytes(7)},
		{Name: "empty", DType: "F32", Shape: []int{0, 4}, Data: nil},
	}
	return entries, encode(t, entries, map[string]string{"format": "pt"})
}

func TestRoundTrip(t *testing.T) {
	entries, data := sample(t)
	f, err := Parse(bytes.NewReader(data), int64(len(data)), "sample.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ti := range f.Tensors {
		names = append(names, ti.Name)
	}
	// File order is data order, which is the order Write was given.
	want := []string{"b.f32", "a.f16", "c.bf16", "ids", "scalar", "empty"}
	if !slices.Equal(names, want) {
		t.Errorf("tensor order %v, want %v", names, want)
	}
	if f.Metadata["format"] != "pt" || len(f.Metadata) != 1 {
		t.Errorf("metadata %v", f.Metadata)
	}
	dtypes := map[string]tensor.DType{"F32": tensor.F32, "F16": tensor.F16, "BF16": tensor.BF16}
	for _, e := range entries {
		got, err := f.ReadTensor(e.Name)
		if e.DType == "I64" {
			oe, ok := omexerr.As(err)
			if !ok || oe.Category != omexerr.Model || oe.Code != "model.unsupported_dtype" ||
				!strings.Contains(err.Error(), "I64") || oe.Tensor != "ids" {
				t.Errorf("I64 tensor: got %v, want model.unsupported_dtype naming I64 and ids", err)
			}
			raw, err := f.ReadRaw(e.Name)
			if err != nil || !bytes.Equal(raw, e.Data) {
				t.Errorf("ReadRaw(ids) = %v, %v", raw, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if got.DType != dtypes[e.DType] || !slices.Equal(got.Shape, e.Shape) || !bytes.Equal(got.Data, e.Data) || got.Name != e.Name {
			t.Errorf("%s: got %v %v %x, want %s %v %x", e.Name, got.DType, got.Shape, got.Data, e.DType, e.Shape, e.Data)
		}
	}
	if _, err := f.ReadTensor("nope"); err == nil {
		t.Error("reading a missing tensor succeeded")
	}
}

func TestRealFile(t *testing.T) {
	path := filepath.Join(testfiles.Shared(t), "models", "tinystories-656k", "model.safetensors")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != 20 { // lm_head, 9 per layer, the final norm
		t.Errorf("%d tensors, want 20", len(f.Tensors))
	}
	if f.Tensors[0].Name != "lm_head.weight" || f.Tensors[len(f.Tensors)-1].Name != "model.norm.weight" {
		t.Errorf("file order starts %s, ends %s", f.Tensors[0].Name, f.Tensors[len(f.Tensors)-1].Name)
	}
	if f.Metadata["model.embed_tokens.weight"] != "lm_head.weight" {
		t.Errorf("metadata %v lacks the embedding alias", f.Metadata)
	}
	var total int64
	for _, ti := range f.Tensors {
		tt, err := f.ReadTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if tt.DType != tensor.F32 || len(tt.Data) != 4*tt.Elements() {
			t.Errorf("%s: %v with %d bytes for %v", ti.Name, tt.DType, len(tt.Data), tt.Shape)
		}
		total += int64(len(tt.Data))
	}
	if f.DataStart+total != f.Size {
		t.Errorf("tensors cover %d of %d data bytes", total, f.Size-f.DataStart)
	}
	head, _ := f.Info("lm_head.weight")
	if !slices.Equal(head.Shape, []int{2048, 128}) {
		t.Errorf("lm_head shape %v", head.Shape)
	}
}

// withHeader builds a file from a literal header and a data section.
func withHeader(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func TestBadFiles(t *testing.T) {
	_, good := sample(t)
	hlen := int(binary.LittleEndian.Uint64(good))
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, MaxHeaderSize+1)
	cases := []struct {
		name string
		data []byte
		code string
		off  int64 // expected offset, or -1 for "any non-negative"
	}{
		{"short", []byte{1, 2, 3}, "model.truncated", 0},
		{"header past end", good[:8+hlen/2], "model.truncated", 0},
		{"header too large", huge, "model.bad_header", 0},
		{"data truncated", good[:len(good)-3], "model.truncated", -1},
		{"not json", withHeader(`{"a": [}`, nil), "model.bad_header", 15},
		{"not object", withHeader(`[1, 2]`, nil), "model.bad_header", 8},
		{"trailing garbage", withHeader(`{} x`, nil), "model.bad_header", -1},
		{"size mismatch", withHeader(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 8)), "model.bad_tensor", 9},
		{"begin after end", withHeader(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 8)), "model.bad_tensor", 9},
		{"overlap", withHeader(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "model.bad_tensor", -1},
		{"past data", withHeader(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), "model.truncated", -1},
		{"negative dim", withHeader(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), "model.bad_header", 9},
		{"float dim", withHeader(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}}`, nil), "model.bad_header", 9},
		{"missing offsets", withHeader(`{"w":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "model.bad_header", 9},
		{"three offsets", withHeader(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 8)), "model.bad_header", 9},
		{"duplicate", withHeader(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "model.bad_header", -1},
		{"unknown dtype", withHeader(`{"w":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), "model.unsupported_dtype", 9},
		{"overflowing shape", withHeader(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), "model.bad_tensor", 9},
		{"bad metadata", withHeader(`{"__metadata__":{"a":1}}`, nil), "model.bad_header", 9},
		{"metadata twice", withHeader(`{"__metadata__":{},"__metadata__":{}}`, nil), "model.bad_header", -1},
		{"half byte", withHeader(`{"w":{"dtype":"F4","shape":[1],"data_offsets":[0,0]}}`, nil), "model.bad_tensor", 9},
	}
	for _, c := range cases {
		_, err := Parse(bytes.NewReader(c.data), int64(len(c.data)), "bad.safetensors")
		oe, ok := omexerr.As(err)
		if !ok {
			t.Errorf("%s: got %v, want an omexerr error", c.name, err)
			continue
		}
		if oe.Category != omexerr.Model || oe.Code != c.code || oe.File != "bad.safetensors" {
			t.Errorf("%s: got %v, want ModelError %s on bad.safetensors", c.name, err, c.code)
		}
		if (c.off >= 0 && oe.Offset != c.off) || oe.Offset < 0 {
			t.Errorf("%s: offset %d, want %d (%v)", c.name, oe.Offset, c.off, err)
		}
	}
}

func TestLenientButSound(t *testing.T) {
	// Unknown keys in an entry are ignored, metadata may be null, empty
	// tensors may sit anywhere, and a hole between tensors is allowed.
	data := withHeader(`{"__metadata__":null,"w":{"dtype":"F32","shape":[1],"data_offsets":[8,12],"extra":1},"e":{"dtype":"U8","shape":[0],"data_offsets":[9,9]}}  `, make([]byte, 12))
	f, err := Parse(bytes.NewReader(data), int64(len(data)), "ok.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 2 || f.Tensors[0].Name != "w" || len(f.Metadata) != 0 {
		t.Errorf("got %+v, metadata %v", f.Tensors, f.Metadata)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.safetensors")); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("opening a missing file: %v, want an InputError", err)
	}
}

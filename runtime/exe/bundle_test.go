package exe

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// TestBundleRoundTrip: every tensor, the configuration and the tokenizer
// come back from a file exactly as written, the weights start on the
// alignment, and F32 data is a view of the mapping, not a copy.
func TestBundleRoundTrip(t *testing.T) {
	s := loadStories(t)
	for _, prefix := range []int{0, 1, 4095, 4096, 12345} {
		b := bundleBytes(t, prefix, 16384, s)
		path := writeBundleFile(t, b)
		bd, err := Open(path)
		if err != nil {
			t.Fatalf("prefix %d: %v", prefix, err)
		}
		if bd.Trailer.WeightsOff%16384 != 0 || bd.Trailer.WeightsOff < uint64(prefix) || bd.Trailer.WeightsOff >= uint64(prefix)+16384 {
			t.Errorf("prefix %d: weights at %d", prefix, bd.Trailer.WeightsOff)
		}
		if !bd.Mapped {
			t.Errorf("prefix %d: weights were read, not mapped", prefix)
		}
		if !reflect.DeepEqual(bd.Config(), s.cfg) || !reflect.DeepEqual(bd.Tokenizer(), s.spec) || bd.Index.Model != "stories260K" {
			t.Fatalf("prefix %d: config or tokenizer changed in the round trip", prefix)
		}
		for _, want := range s.tensors {
			got, err := bd.Tensor(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) || !slices.Equal(got.Scales, want.Scales) {
				t.Fatalf("tensor %s differs after the round trip", want.Name)
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(bd.weights)))
			if p := uintptr(unsafe.Pointer(&got.Data[0])); p < start || p >= start+uintptr(len(bd.weights)) || (p-start)%BlobAlign != 0 {
				t.Fatalf("tensor %s is not an aligned view of the weights", want.Name)
			}
		}
		if _, err := bd.Tensor("nope"); omexerr.CategoryOf(err) != omexerr.Model {
			t.Fatalf("unknown tensor: %v", err)
		}
		if err := bd.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQuantizedAndSpecialValues: quantized tensors keep their scales, and
// float values JSON could not carry (NaN, -Inf scores) and tokens that are
// not UTF-8 survive the index.
func TestQuantizedAndSpecialValues(t *testing.T) {
	s := loadStories(t)
	q, err := tensor.Convert(s.tensors[1], tensor.Q8_0)
	if err != nil {
		t.Fatal(err)
	}
	s.tensors[1] = q
	s.spec.Scores[3] = float32(math.Inf(-1))
	s.spec.Scores[4] = float32(math.NaN())
	s.spec.Tokens[5] = "\xff\xfe"
	s.spec.Merges = []string{"a b", "\x80 c"}
	s.spec.PreRegex = []string{`\s+`}
	s.spec.Types = make([]int32, len(s.spec.Tokens))
	s.spec.Types[0] = tokenizer.TypeControl
	s.spec.IgnoreMerges, s.spec.Lowercase = true, true
	s.cfg.QKVBias, s.cfg.Tied = true, false
	bd, err := openBytes(bundleBytes(t, 100, 4096, s))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := bd.Tensor(q.Name)
	if got.DType != tensor.Q8_0 || !bytes.Equal(got.Data, q.Data) || !slices.Equal(got.Scales, q.Scales) {
		t.Fatal("q8_0 tensor differs")
	}
	sp := bd.Tokenizer()
	if !math.IsInf(float64(sp.Scores[3]), -1) || !math.IsNaN(float64(sp.Scores[4])) || sp.Tokens[5] != "\xff\xfe" ||
		!slices.Equal(sp.Merges, s.spec.Merges) || !slices.Equal(sp.Types, s.spec.Types) || !sp.IgnoreMerges || !sp.Lowercase || sp.AddEOS ||
		!slices.Equal(sp.PreRegex, s.spec.PreRegex) {
		t.Fatalf("tokenizer spec changed: %+v", sp.Merges)
	}
	if c := bd.Config(); !c.QKVBias || c.Tied || c.OutputBias {
		t.Fatalf("config flags changed: %+v", c)
	}
}

// TestCorruptBundles: every truncation and a flipped byte anywhere in the
// trailer, the index or the weights is a ModelError naming the file and an
// offset, never a panic.
func TestCorruptBundles(t *testing.T) {
	s := loadStories(t)
	good := bundleBytes(t, 777, 4096, s)
	check := func(what string, b []byte) {
		t.Helper()
		_, err := openBytes(b)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.File != "mem" || e.Offset < 0 {
			t.Fatalf("%s: got %v, want a ModelError with file and offset", what, err)
		}
	}
	for _, n := range []int{0, 1, 63, 64, 777, 4096, len(good) / 2, len(good) - TrailerSize, len(good) - 1} {
		check("truncated", good[:n])
	}
	trailer := len(good) - TrailerSize
	tr, err := ParseTrailer(good[trailer:], int64(len(good)), "mem")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{trailer, trailer + 9, trailer + 30, trailer + 45, trailer + 50, trailer + 60,
		int(tr.IndexOff), int(tr.IndexOff) + 100, int(tr.WeightsOff), int(tr.WeightsOff + tr.WeightsLen - 1)} {
		b := slices.Clone(good)
		b[at] ^= 0x10
		check("flipped byte", b)
	}
	// Appending to the file moves the trailer away from the end.
	check("appended", append(slices.Clone(good), 0))
	// A trailer that checks out but points outside the file.
	bad := Trailer{Align: 4096, WeightsOff: 4096, WeightsLen: 1 << 40, IndexOff: 1 << 41, IndexLen: 5}
	check("absurd trailer", bad.Append(make([]byte, 8192)))
	// A program region that is not part of the bundle may change freely.
	b := slices.Clone(good)
	b[10] ^= 0xff
	if _, err := openBytes(b); err != nil {
		t.Fatalf("a changed program byte: %v", err)
	}
}

// TestIndexChecks: ParseIndex refuses entries that do not describe their
// data, naming the tensor.
func TestIndexChecks(t *testing.T) {
	base := Index{Model: "m", Tensors: []TensorEntry{{Name: "w", DType: tensor.F32, Shape: []int{2, 3}, DataOff: 0, DataLen: 24}}}
	for _, c := range []struct {
		name string
		edit func(e *TensorEntry)
		want string
	}{
		{"dtype", func(e *TensorEntry) { e.DType = 9 }, "unknown dtype"},
		{"length", func(e *TensorEntry) { e.DataLen = 20 }, "data length"},
		{"outside", func(e *TensorEntry) { e.DataOff = 64 }, "outside"},
		{"unaligned", func(e *TensorEntry) { e.DataOff = 4 }, "aligned"},
		{"scales", func(e *TensorEntry) { e.ScalesCount = 1 }, "scale count"},
		{"blocks", func(e *TensorEntry) { e.DType = tensor.Q8_0; e.DataLen = 6 }, "block size"},
		{"huge", func(e *TensorEntry) { e.Shape = []int{1 << 30, 1 << 30} }, "too many"},
		{"rank", func(e *TensorEntry) { e.Shape = make([]int, 9) }, "rank"},
	} {
		ix := base
		ix.Tensors = []TensorEntry{base.Tensors[0]}
		ix.Tensors[0].Shape = slices.Clone(base.Tensors[0].Shape)
		c.edit(&ix.Tensors[0])
		b, _ := ix.MarshalBinary()
		_, err := ParseIndex(b, 64, "f", 1000)
		if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Model || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"w"`) || e.Offset < 1000 {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	ix := base
	ix.Tensors = append(slices.Clone(base.Tensors), base.Tensors[0])
	b, _ := ix.MarshalBinary()
	if _, err := ParseIndex(b, 64, "f", 0); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	// A count larger than the bytes left is refused before allocating: the
	// token count follows the name, the config and the (empty) kind.
	b, _ = base.MarshalBinary()
	const tokenCount = 4 + 1 + 8*4 + 4 + 4 + 4 + 1 + 4
	binary.LittleEndian.PutUint32(b[tokenCount:], math.MaxUint32)
	if _, err := ParseIndex(b, 64, "f", 0); omexerr.CategoryOf(err) != omexerr.Model || !strings.Contains(err.Error(), "cannot fit") {
		t.Errorf("huge count: %v", err)
	}
}

// TestBundleWriterRefusals: the writer refuses a bad alignment, a tensor
// whose data does not match its shape, and a name given twice.
func TestBundleWriterRefusals(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewBundleWriter(&buf, 0, 100); err == nil {
		t.Error("alignment 100 accepted")
	}
	bw, _ := NewBundleWriter(&buf, 0, 4096)
	w := &tensor.Tensor{Name: "w", DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 8)}
	if err := bw.Add(w, ""); err != nil {
		t.Fatal(err)
	}
	if err := bw.Add(w, ""); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("duplicate: %v", err)
	}
	bw, _ = NewBundleWriter(&buf, 0, 4096)
	if err := bw.Add(&tensor.Tensor{Name: "x", DType: tensor.F32, Shape: []int{3}, Data: make([]byte, 8)}, ""); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("short data: %v", err)
	}
}

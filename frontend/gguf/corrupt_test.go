package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/tensor"
)

// parseBytes parses an in-memory file labelled "mem.gguf".
func parseBytes(b []byte) (*File, error) {
	return Parse(bytes.NewReader(b), int64(len(b)), "mem.gguf")
}

// TestMinimalFile parses the synthetic file and reads its tensor back.
func TestMinimalFile(t *testing.T) {
	b := minimalFile()
	g, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	ti, ok := g.TensorInfo("w.weight")
	if !ok || !slices.Equal(ti.Shape(), []int{2, 4}) || ti.TypeName() != "F32" || g.DataOffset()%32 != 0 {
		t.Fatalf("tensor info %+v, data at %d", ti, g.DataOffset())
	}
	tt, err := g.ReadTensor("w.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tt.Data, b[g.DataOffset():g.DataOffset()+32]) {
		t.Errorf("data differs")
	}
	if m := g.Meta(); m.Name != "mem" || m.Architecture != "llama" {
		t.Errorf("meta %+v", m)
	}
	if _, err := g.ModelConfig(); err == nil {
		t.Errorf("a file without hyperparameters gave a model config")
	}
	if s := g.Tokenizer(); len(s.Tokens) != 3 || s.Scores == nil || s.BOS != 1 {
		t.Errorf("tokenizer %+v", s)
	}
	if _, err := g.ReadTensor("nope"); err == nil {
		t.Errorf("reading a missing tensor gave no error")
	}
}

// TestQuantizedBlocks checks the Q8_0 and Q4_0 block split on hand-made
// blocks, and that another ggml type is refused by name.
func TestQuantizedBlocks(t *testing.T) {
	q8 := make([]byte, 34)
	binary.LittleEndian.PutUint16(q8, 0x3800) // 0.5
	for i := range 32 {
		q8[2+i] = byte(int8(i - 16))
	}
	q4 := make([]byte, 18)
	binary.LittleEndian.PutUint16(q4, 0xc000) // -2
	for j := range 16 {
		q4[2+j] = byte(j) | byte(15-j)<<4
	}
	k4 := make([]byte, 144)
	b := synthFile(0, nil, []synthTensor{
		{"q8", []uint64{32}, GGMLQ8_0, q8},
		{"q4", []uint64{32}, GGMLQ4_0, q4},
		{"k4", []uint64{256}, 12, k4},
	})
	g, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := g.ReadTensor("q8")
	if err != nil {
		t.Fatal(err)
	}
	if tt.DType != tensor.Q8_0 || !slices.Equal(tt.Scales, []float32{0.5}) || !bytes.Equal(tt.Data, q8[2:]) {
		t.Errorf("q8: %s %v", tt.DType, tt.Scales)
	}
	if v := values(t, tt); v[0] != -8 || v[31] != 7.5 {
		t.Errorf("q8 values %v", v)
	}
	tt, err = g.ReadTensor("q4")
	if err != nil {
		t.Fatal(err)
	}
	if tt.DType != tensor.Q4_0 || !slices.Equal(tt.Scales, []float32{-2}) || !bytes.Equal(tt.Data, q4[2:]) {
		t.Errorf("q4: %s %v", tt.DType, tt.Scales)
	}
	// Element 0 is the low nibble of byte 0 (0 -> -8*-2 = 16), element 16
	// its high nibble (15 -> 7*-2 = -14).
	if v := values(t, tt); v[0] != 16 || v[16] != -14 || v[15] != -14 || v[31] != 16 {
		t.Errorf("q4 values %v", v)
	}
	_, err = g.ReadTensor("k4")
	e := wantModelError(t, err, "mem.gguf")
	if e.Code != "model.unsupported_dtype" || e.Tensor != "k4" || !strings.Contains(e.Msg, "Q4_K") {
		t.Errorf("Q4_K tensor: %v", e)
	}
	if infos := g.Tensors(); infos[2].DType.Valid() {
		t.Errorf("Q4_K tensor listed with valid dtype %s", infos[2].DType)
	}
}

// TestTruncated cuts real files at many offsets: every prefix must fail
// with a ModelError naming the file, and never panic.
func TestTruncated(t *testing.T) {
	for _, rel := range []string{"models/stories260K/stories260K.gguf", "models/tinystories-656k/tinystories-656k-q8_0.gguf"} {
		full, err := os.ReadFile(testfiles.SharedFile(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		g, err := parseBytes(full)
		if err != nil {
			t.Fatal(err)
		}
		// The last tensor's end: a cut at or after it still holds every tensor.
		var end int64
		for _, ti := range g.TensorInfos() {
			end = max(end, g.DataOffset()+int64(ti.Offset+ti.Size))
		}
		cuts := 0
		for n := int64(0); n < end; n += cutStep(n, g.DataOffset()) {
			_, err := parseBytes(full[:n])
			wantModelError(t, err, "mem.gguf")
			cuts++
		}
		t.Logf("%s: %d cuts below %d bytes all rejected", rel, cuts, end)
	}
}

// cutStep visits every byte of the first 2 KiB and then sparser offsets.
func cutStep(n, dataStart int64) int64 {
	switch {
	case n < 2048:
		return 1
	case n < dataStart:
		return 211
	}
	return 4099
}

// TestCorruptFields damages single fields of the synthetic file.
func TestCorruptFields(t *testing.T) {
	good := minimalFile()
	// Offsets in minimalFile: magic 0, version 4, tensor count 8, kv count
	// 16, first key length 24.
	put32 := func(off int, v uint32) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	put64 := func(off int, v uint64) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b[off:], v)
		return b
	}
	tokensCount := bytes.Index(good, []byte("tokenizer.ggml.tokens")) + len("tokenizer.ggml.tokens") + 8
	firstTok := tokensCount + 8
	tensorName := bytes.Index(good, []byte("w.weight")) - 8
	nDims := tensorName + 8 + len("w.weight")
	dim0 := nDims + 4
	typ := dim0 + 16
	offset := typ + 4
	cases := map[string]struct {
		file []byte
		code string
	}{
		"magic":               {append([]byte("GGUG"), good[4:]...), "model.bad_magic"},
		"version 1":           {put32(4, 1), "model.unsupported_version"},
		"version 4":           {put32(4, 4), "model.unsupported_version"},
		"big-endian version":  {put32(4, 3<<24), "model.unsupported_version"},
		"tensor count":        {put64(8, math.MaxUint64), "model.corrupt"},
		"kv count":            {put64(16, 1<<40), "model.corrupt"},
		"kv count +1":         {put64(16, 4), "model.truncated"},
		"key length":          {put64(24, math.MaxUint64), "model.truncated"},
		"key length 2^62":     {put64(24, 1<<62), "model.truncated"},
		"array count":         {put64(tokensCount, math.MaxUint64/2), "model.truncated"},
		"array count +1":      {put64(tokensCount, 4), "model.truncated"},
		"token length":        {put64(firstTok, 1<<50), "model.truncated"},
		"tensor name length":  {put64(tensorName, 1<<33), "model.truncated"},
		"n_dims 5":            {put32(nDims, 5), "model.corrupt"},
		"n_dims 0":            {put32(nDims, 0), "model.corrupt"},
		"zero dim":            {put64(dim0, 0), "model.corrupt"},
		"huge dim":            {put64(dim0, 1<<62), "model.corrupt"},
		"dims overflow":       {put64(dim0+8, math.MaxUint64), "model.corrupt"},
		"unknown ggml type":   {put32(typ, 4), "model.corrupt"},
		"misaligned offset":   {put64(offset, 8), "model.corrupt"},
		"offset past the end": {put64(offset, 1<<20), "model.truncated"},
		"offset overflow":     {put64(offset, math.MaxUint64-31), "model.truncated"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseBytes(c.file)
			e := wantModelError(t, err, "mem.gguf")
			if e.Code != c.code {
				t.Errorf("code %s, want %s: %v", e.Code, c.code, e)
			}
			if e.Offset < 0 {
				t.Errorf("no offset: %v", e)
			}
		})
	}
}

// TestCorruptMetadata covers metadata values the byte patches above do not:
// unknown types, bad bools, deep nesting, duplicates, bad alignment,
// overlapping tensors.
func TestCorruptMetadata(t *testing.T) {
	data := make([]byte, 32)
	one := []synthTensor{{"a", []uint64{8}, GGMLF32, data}}
	cases := map[string][]byte{
		"unknown value type": synthFile(1, func(b *builder) { b.str("x").u32(13).u32(0) }, one),
		"unknown elem type":  synthFile(1, func(b *builder) { b.str("x").u32(uint32(TypeArray)).u32(99).u64(0) }, one),
		"bool 2":             synthFile(1, func(b *builder) { b.str("x").u32(uint32(TypeBool)).WriteByte(2) }, one),
		"bool array 7": synthFile(1, func(b *builder) {
			b.str("x").u32(uint32(TypeArray)).u32(uint32(TypeBool)).u64(1).WriteByte(7)
		}, one),
		"deep nesting": synthFile(1, func(b *builder) {
			b.str("x").u32(uint32(TypeArray))
			for range 20 {
				b.u32(uint32(TypeArray)).u64(1)
			}
			b.u32(uint32(TypeUint8)).u64(0)
		}, one),
		"duplicate key": synthFile(1, func(b *builder) { b.kvString("tokenizer.ggml.model", "gpt2") }, one),
		"alignment 3":   synthFile(1, func(b *builder) { b.kvU32("general.alignment", 3) }, one),
		"alignment 0":   synthFile(1, func(b *builder) { b.kvU32("general.alignment", 0) }, one),
		"alignment type": synthFile(1, func(b *builder) {
			b.str("general.alignment").u32(uint32(TypeUint64)).u64(32)
		}, one),
		"duplicate tensor": synthFile(0, nil, []synthTensor{{"a", []uint64{8}, GGMLF32, data}, {"a", []uint64{8}, GGMLF32, data}}),
		"partial block":    synthFile(0, nil, []synthTensor{{"a", []uint64{16}, GGMLQ8_0, data}}),
	}
	// Two tensors whose data overlap: the second entry's offset is patched to 0.
	ov := synthFile(0, nil, []synthTensor{{"a", []uint64{8}, GGMLF32, data}, {"b", []uint64{8}, GGMLF32, data}})
	i := bytes.Index(ov, []byte{1, 0, 0, 0, 0, 0, 0, 0, 'b'})
	if i < 0 || binary.LittleEndian.Uint64(ov[i+25:]) != 32 {
		t.Fatal("cannot find tensor b's entry")
	}
	binary.LittleEndian.PutUint64(ov[i+25:], 0)
	cases["overlap"] = ov
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseBytes(b)
			wantModelError(t, err, "mem.gguf")
		})
	}
	// Nested arrays within the depth limit parse and keep their shape.
	g, err := parseBytes(synthFile(1, func(b *builder) {
		b.str("x").u32(uint32(TypeArray)).u32(uint32(TypeArray)).u64(2)
		b.u32(uint32(TypeInt32)).u64(1).u32(7)
		b.u32(uint32(TypeString)).u64(1).str("s")
	}, one))
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := g.Lookup("x")
	outer := kv.Value.(*Array).Values.([]*Array)
	if kv.TypeName() != "array[array[int32]]" || outer[0].Values.([]int32)[0] != 7 || outer[1].Values.([]string)[0] != "s" {
		t.Errorf("nested array %s %+v", kv.TypeName(), outer)
	}
}

// TestVersion2 checks that a v2 file (same layout as v3) parses.
func TestVersion2(t *testing.T) {
	b := minimalFile()
	binary.LittleEndian.PutUint32(b[4:], 2)
	g, err := parseBytes(b)
	if err != nil || g.Version() != 2 {
		t.Fatalf("v2: %v", err)
	}
}

// TestFormat checks the display form of metadata values.
func TestFormat(t *testing.T) {
	g, err := parseBytes(synthFile(2, func(b *builder) {
		b.kvU32("n", 7)
		b.str("f").u32(uint32(TypeArray)).u32(uint32(TypeFloat32)).u64(3).u32(0x3f800000).u32(0x40000000).u32(0)
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"general.architecture":  `"llama"`,
		"n":                     "7",
		"f":                     "[3]{1, 2, ...}",
		"tokenizer.ggml.tokens": `[3]{"<unk>", "<s>", ...}`,
	}
	for k, w := range want {
		kv, _ := g.Lookup(k)
		if got := kv.Format(2); got != w {
			t.Errorf("%s: %s, want %s", k, got, w)
		}
	}
}

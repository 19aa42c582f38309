package format

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sampleOnce holds one written sample package that samplePackage copies:
// writing fsyncs every file, which is slow on a busy disk.
var sampleOnce struct {
	sync.Once
	dir string
}

// samplePackage returns a fresh copy of the sample package.
func samplePackage(t testing.TB) string {
	t.Helper()
	sampleOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "omex-format-sample-")
		must(t, err)
		sampleOnce.dir = filepath.Join(tmp, "pkg")
		writeSample(t, sampleOnce.dir)
	})
	if sampleOnce.dir == "" {
		t.Fatal("the sample package could not be written")
	}
	dir := filepath.Join(t.TempDir(), "pkg")
	must(t, os.CopyFS(dir, os.DirFS(sampleOnce.dir)))
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sampleOnce.dir != "" {
		os.RemoveAll(filepath.Dir(sampleOnce.dir))
	}
	os.Exit(code)
}

// flipByte inverts one byte of dir/rel.
func flipByte(t *testing.T, dir, rel string, off int64) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(path)
	must(t, err)
	b[off] ^= 0xff
	must(t, os.WriteFile(path, b, 0o644))
}

func TestVerifyFlippedWeightByte(t *testing.T) {
	dir := samplePackage(t)
	p, err := Open(dir)
	must(t, err)
	e, _ := p.Entry("blk.1.ffn_up.weight")
	flipByte(t, dir, "weights/layer_1.bin", e.DataOffset+5)
	ve := wantModelError(t, Verify(dir), "weights/layer_1.bin")
	if ve.Code != "model.checksum_mismatch" {
		t.Fatalf("code %s, want model.checksum_mismatch: %v", ve.Code, ve)
	}
}

func TestVerifyDeletedFile(t *testing.T) {
	for _, rel := range []string{"weights/head.bin", "tokenizer/scores.bin", GraphFile} {
		dir := samplePackage(t)
		must(t, os.Remove(filepath.Join(dir, filepath.FromSlash(rel))))
		ve := wantModelError(t, Verify(dir), rel)
		if ve.Code != "model.missing_file" {
			t.Fatalf("%s: code %s, want model.missing_file", rel, ve.Code)
		}
	}
	dir := samplePackage(t)
	must(t, os.Remove(filepath.Join(dir, ManifestFile)))
	wantModelError(t, Verify(dir), ManifestFile)
}

func TestVerifyUnlistedFiles(t *testing.T) {
	dir := samplePackage(t)
	must(t, os.WriteFile(filepath.Join(dir, "extensions", "plugin.json"), []byte("{}"), 0o644))
	must(t, Verify(dir)) // user directories may gain files after import
	must(t, os.WriteFile(filepath.Join(dir, "weights", "layer_9.bin"), nil, 0o644))
	ve := wantModelError(t, Verify(dir), "weights/layer_9.bin")
	if ve.Code != "model.unlisted_file" {
		t.Fatalf("code %s, want model.unlisted_file", ve.Code)
	}
	// Listed in the manifest but holding no indexed record: still refused.
	remanifestWith(t, dir, "weights/layer_9.bin")
	wantModelError(t, Verify(dir), "weights/layer_9.bin")

	dir = samplePackage(t)
	must(t, os.Symlink("/etc/passwd", filepath.Join(dir, "weights", "evil.bin")))
	wantModelError(t, Verify(dir), "weights/evil.bin")
}

// remanifestWith adds rel to the manifest and refreshes all entries.
func remanifestWith(t *testing.T, dir, rel string) {
	t.Helper()
	var m Manifest
	must(t, plain(readJSON(dir, ManifestFile, &m)))
	m.Files = append(m.Files, ManifestEntry{Path: rel})
	sortManifest(&m)
	b, err := marshalJSON(&m)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644))
	remanifest(t, dir)
}

// TestVerifyCorruptRecords corrupts record headers and padding while
// keeping the manifest consistent, so the structural checks must catch it,
// naming the file, the tensor and the offset.
func TestVerifyCorruptRecords(t *testing.T) {
	type corruption struct {
		name   string
		field  int64 // offset inside the record
		value  uint32
		code   string
		offset func(e IndexEntry) int64
	}
	rec := func(e IndexEntry) int64 { return e.RecordOffset }
	cases := []corruption{
		{"magic", 0, 0x584d4f4e, "model.bad_magic", rec},
		{"version", 4, 2, "model.unsupported_version", func(e IndexEntry) int64 { return e.RecordOffset + 4 }},
		{"layer", 8, 1, "model.record_mismatch", rec},
		{"dtype", 12, 1, "model.record_mismatch", rec},
		{"bad dtype", 12, 9, "model.bad_dtype", func(e IndexEntry) int64 { return e.RecordOffset + 12 }},
		{"ndims", 16, 1, "model.bad_record", func(e IndexEntry) int64 { return e.RecordOffset + 20 }},
		{"elements", 20, 7, "model.bad_record", func(e IndexEntry) int64 { return e.RecordOffset + 20 }},
		{"dim", 24, 32, "model.bad_record", func(e IndexEntry) int64 { return e.RecordOffset + 20 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := samplePackage(t)
			p, err := Open(dir)
			must(t, err)
			e, _ := p.Entry("blk.0.attn_q.weight")
			path := filepath.Join(dir, "weights", "layer_0.bin")
			b, err := os.ReadFile(path)
			must(t, err)
			binary.LittleEndian.PutUint32(b[e.RecordOffset+c.field:], c.value)
			must(t, os.WriteFile(path, b, 0o644))
			remanifest(t, dir)
			ve := wantModelError(t, Verify(dir), "weights/layer_0.bin")
			if ve.Code != c.code || ve.Tensor != e.Name || ve.Offset != c.offset(e) {
				t.Fatalf("got %s tensor %q offset %d, want %s %q %d: %v", ve.Code, ve.Tensor, ve.Offset, c.code, e.Name, c.offset(e), ve)
			}
			_, err = p.ReadTensor(e.Name)
			wantModelError(t, err, "weights/layer_0.bin")
		})
	}

	t.Run("padding", func(t *testing.T) {
		dir := samplePackage(t)
		p, err := Open(dir)
		must(t, err)
		e, _ := p.Entry("output_norm.weight") // 28-byte prefix, 36 bytes of padding
		flipByte(t, dir, "weights/head.bin", e.DataOffset-1)
		remanifest(t, dir)
		ve := wantModelError(t, Verify(dir), "weights/head.bin")
		if ve.Code != "model.bad_record" {
			t.Fatalf("code %s: %v", ve.Code, ve)
		}
	})

	t.Run("trailing data", func(t *testing.T) {
		dir := samplePackage(t)
		f, err := os.OpenFile(filepath.Join(dir, "weights", "head.bin"), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.Write([]byte{1})
		must(t, err)
		must(t, f.Close())
		remanifest(t, dir)
		ve := wantModelError(t, Verify(dir), "weights/head.bin")
		if ve.Code != "model.trailing_data" {
			t.Fatalf("code %s: %v", ve.Code, ve)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		dir := samplePackage(t)
		path := filepath.Join(dir, "weights", "layer_1.bin")
		st, err := os.Stat(path)
		must(t, err)
		must(t, os.Truncate(path, st.Size()-10))
		p, err := Open(dir)
		must(t, err)
		_, err = p.ReadTensor("blk.1.ffn_down.weight")
		ve := wantModelError(t, err, "weights/layer_1.bin")
		if ve.Code != "model.truncated" || ve.Tensor != "blk.1.ffn_down.weight" {
			t.Fatalf("got %v", ve)
		}
		remanifest(t, dir)
		wantModelError(t, Verify(dir), "weights/layer_1.bin")
	})
}

// TestOpenCorruptJSON damages each JSON file and expects a ModelError that
// names it (with the byte offset for syntax errors).
func TestOpenCorruptJSON(t *testing.T) {
	for _, rel := range []string{MetadataFile, GraphFile, IndexFile, QuantizationFile, TokenizerFile, AgentFile} {
		dir := samplePackage(t)
		path := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(path)
		must(t, err)
		must(t, os.WriteFile(path, b[:len(b)/2], 0o644))
		_, err = Open(dir)
		ve := wantModelError(t, err, rel)
		if ve.Code != "model.bad_json" || ve.Offset < 0 {
			t.Fatalf("%s: %v", rel, ve)
		}
		wantModelError(t, Verify(dir), rel)
	}
}

// TestOpenInconsistentJSON edits valid JSON into content that contradicts
// the rest of the package.
func TestOpenInconsistentJSON(t *testing.T) {
	edit := func(t *testing.T, rel string, f func(v any), v any) string {
		dir := samplePackage(t)
		must(t, plain(readJSON(dir, rel, v)))
		f(v)
		b, err := marshalJSON(v)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), b, 0o644))
		return dir
	}
	t.Run("index offset", func(t *testing.T) {
		var ix Index
		dir := edit(t, IndexFile, func(any) { ix.Tensors[2].DataOffset += 64 }, &ix)
		_, err := Open(dir)
		ve := wantModelError(t, err, IndexFile)
		if ve.Tensor != ix.Tensors[2].Name {
			t.Fatalf("names tensor %q, want %q", ve.Tensor, ix.Tensors[2].Name)
		}
	})
	t.Run("index file outside weights", func(t *testing.T) {
		var ix Index
		dir := edit(t, IndexFile, func(any) { ix.Tensors[0].File = "../metadata.json" }, &ix)
		_, err := Open(dir)
		wantModelError(t, err, IndexFile)
	})
	t.Run("overlapping records", func(t *testing.T) {
		var ix Index
		dir := edit(t, IndexFile, func(any) {
			e := indexByName(&ix)["output.weight"] // the second record of head.bin, at 320
			e.RecordOffset, e.ScalesOffset, e.DataOffset = 0, e.ScalesOffset-320, e.DataOffset-320
		}, &ix)
		_, err := Open(dir)
		wantModelError(t, err, IndexFile)
	})
	t.Run("graph shape", func(t *testing.T) {
		var g Graph
		dir := edit(t, GraphFile, func(any) { g.Nodes[1].Weights[0].Shape = []int{65} }, &g)
		_, err := Open(dir)
		ve := wantModelError(t, err, IndexFile)
		if ve.Code != "model.tensor_mismatch" {
			t.Fatalf("got %v", ve)
		}
	})
	t.Run("graph edge", func(t *testing.T) {
		var g Graph
		dir := edit(t, GraphFile, func(any) { g.Edges[0].To = "block_0.nothing" }, &g)
		_, err := Open(dir)
		wantModelError(t, err, GraphFile)
	})
	t.Run("special token", func(t *testing.T) {
		var c TokenizerConfig
		dir := edit(t, TokenizerFile, func(any) { c.SpecialTokens.EOS.ID = 3 }, &c)
		_, err := Open(dir)
		wantModelError(t, err, TokenizerFile)
	})
	t.Run("vocab size", func(t *testing.T) {
		var c TokenizerConfig
		dir := edit(t, TokenizerFile, func(any) { c.VocabSize = 13 }, &c)
		_, err := Open(dir)
		wantModelError(t, err, VocabFile)
	})
	t.Run("quantization scheme", func(t *testing.T) {
		var q QuantizationInfo
		dir := edit(t, QuantizationFile, func(any) { q.Schemes[1].ZeroPoint = 0 }, &q)
		_, err := Open(dir)
		wantModelError(t, err, QuantizationFile)
	})
	t.Run("metadata version", func(t *testing.T) {
		var m Metadata
		dir := edit(t, MetadataFile, func(any) { m.OmexVersion = "2.0" }, &m)
		_, err := Open(dir)
		wantModelError(t, err, MetadataFile)
	})
}

// TestOpenCorruptTokenizerFiles damages the tokenizer's own files.
func TestOpenCorruptTokenizerFiles(t *testing.T) {
	cases := []struct {
		rel  string
		data string
	}{
		{VocabFile, "a\nb\n"},                // too few lines
		{VocabFile, "no newline at the end"}, // truncated
		{ScoresFile, "123"},                  // not 4 bytes per token
		{TokenTypesFile, ""},                 // empty
		{VocabFile, "<unk>\n\\q\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n" + "x\n"}, // bad escape
	}
	for _, c := range cases {
		dir := samplePackage(t)
		must(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(c.rel)), []byte(c.data), 0o644))
		_, err := Open(dir)
		wantModelError(t, err, c.rel)
	}
}

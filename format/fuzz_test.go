package format

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// checkFuzzError fails unless err is nil or a ModelError naming a file: a
// corrupt package must never be reported as anything else.
func checkFuzzError(t *testing.T, err error) {
	if err == nil {
		return
	}
	e, ok := omexerr.As(err)
	if !ok || e.Category != omexerr.Model || e.File == "" {
		t.Fatalf("want nil or a ModelError naming a file, got %v", err)
	}
}

func FuzzReadRecordHeader(f *testing.F) {
	for d := tensor.F32; d.Valid(); d++ {
		for _, shape := range [][]int{{32}, {3, 64}, {1, 2, 3, 32}} {
			h := RecordHeader{Layer: 1, DType: d, Shape: shape}
			f.Add(appendRecordPrefix(nil, &h, make([]float32, h.ScalesCount()), 0))
		}
	}
	h := RecordHeader{Layer: HeadLayer, DType: tensor.F32, Shape: []int{1, 1, 1, 1, 1, 1, 1, 1}}
	f.Add(appendRecordPrefix(nil, &h, nil, 0))
	f.Add([]byte("OMEX"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseRecordHeader(b)
		if err != nil {
			e, ok := omexerr.As(err)
			if !ok || e.Category != omexerr.Model || e.Offset < 0 || e.Offset > int64(len(b)) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		// A header that parses re-encodes to the same bytes.
		enc := appendRecordPrefix(nil, &h, nil, 0)
		n := HeaderSize + 4*len(h.Shape)
		if !bytes.Equal(enc[:n], b[:n]) {
			t.Fatalf("re-encoded %x, parsed from %x", enc[:n], b[:n])
		}
		if h.DataOffset(0)%Alignment != 0 || h.DataOffset(0) < int64(n) {
			t.Fatalf("data offset %d", h.DataOffset(0))
		}
	})
}

// fuzzPackage copies the sample package into a directory of the fuzz
// worker, where each input then overwrites the files under test.
func fuzzPackage(f *testing.F) string {
	dir := filepath.Join(f.TempDir(), "pkg")
	must(f, os.CopyFS(dir, os.DirFS(samplePackage(f))))
	return dir
}

// readBack reads the named files of dir for seeding.
func readBack(f *testing.F, dir string, rels ...string) [][]byte {
	var out [][]byte
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		must(f, err)
		out = append(out, b)
	}
	return out
}

// openAll opens dir and, when that works, reads every tensor and verifies.
func openAll(t *testing.T, dir string) {
	p, err := Open(dir)
	checkFuzzError(t, err)
	if err != nil {
		return
	}
	for _, in := range p.Tensors() {
		_, err := p.ReadTensor(in.Name)
		checkFuzzError(t, err)
	}
	checkFuzzError(t, Verify(dir))
}

func FuzzOpen(f *testing.F) {
	dir := fuzzPackage(f)
	rels := []string{MetadataFile, GraphFile, IndexFile}
	seed := readBack(f, dir, rels...)
	f.Add(seed[0], seed[1], seed[2])
	f.Add([]byte("{}"), []byte("null"), []byte(`{"format_version":1,"alignment":64,"tensors":[{"name":"x","file":"head.bin","layer":-2,"dtype":"f32","shape":[1],"record_offset":0,"data_offset":64,"data_bytes":4}]}`))
	f.Add(seed[0][:10], seed[1], bytes.Replace(seed[2], []byte(`"record_offset": 320`), []byte(`"record_offset": 256`), 1))
	f.Fuzz(func(t *testing.T, meta, graph, index []byte) {
		for i, b := range [][]byte{meta, graph, index} {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rels[i])), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		openAll(t, dir)
	})
}

func FuzzOpenTokenizer(f *testing.F) {
	dir := fuzzPackage(f)
	rels := []string{TokenizerFile, VocabFile, ScoresFile}
	seed := readBack(f, dir, rels...)
	f.Add(seed[0], seed[1], seed[2])
	bpe := bytes.Replace(seed[0], []byte(`"spm"`), []byte(`"bpe"`), 1)
	bpe = bytes.Replace(bpe, []byte(`"vocab": "vocab.txt",`), []byte(`"vocab": "vocab.txt", "merges": "merges.txt",`), 1)
	f.Add(bpe, seed[1], seed[2])
	f.Add(seed[0], []byte("a\\x0\n"), []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, config, vocab, scores []byte) {
		for i, b := range [][]byte{config, vocab, scores} {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rels[i])), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// merges.txt mirrors vocab.txt so a config naming it finds a file.
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(MergesFile)), vocab, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		checkFuzzError(t, err)
		os.Remove(filepath.Join(dir, filepath.FromSlash(MergesFile)))
	})
}

func FuzzVerify(f *testing.F) {
	dir := fuzzPackage(f)
	rels := []string{ManifestFile, "weights/head.bin", QuantizationFile, AgentFile}
	seed := readBack(f, dir, rels...)
	f.Add(seed[0], seed[1], seed[2], seed[3])
	f.Add([]byte(`{"algorithm":"sha256","files":[{"path":"../x","size":1,"sha256":""}]}`), seed[1][:100], seed[2], []byte("{}"))
	f.Fuzz(func(t *testing.T, manifest, head, quant, agent []byte) {
		for i, b := range [][]byte{manifest, head, quant, agent} {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rels[i])), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		checkFuzzError(t, Verify(dir))
		openAll(t, dir)
	})
}

func FuzzUnescapeToken(f *testing.F) {
	for _, s := range []string{"", "a b", `\\`, `\x0a`, `\x`, "\xff", "▁the", `\xZZ`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any byte string survives escaping.
		esc := EscapeToken(s)
		if bytes.ContainsAny([]byte(esc), "\n\r") {
			t.Fatalf("escaped %q contains a line break", esc)
		}
		back, err := UnescapeToken(esc)
		if err != nil || back != s {
			t.Fatalf("%q -> %q -> %q, %v", s, esc, back, err)
		}
		// Any line either fails cleanly or re-escapes to a line that
		// decodes to the same token.
		tok, err := UnescapeToken(s)
		if err != nil {
			if omexerr.CategoryOf(err) != omexerr.Model {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		again, err := UnescapeToken(EscapeToken(tok))
		if err != nil || again != tok {
			t.Fatalf("%q -> %q does not round-trip", s, tok)
		}
	})
}

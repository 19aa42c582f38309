package exe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/frontend/llama2c"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// storiesModel is the bundled stories260K: its configuration, tokenizer and
// tensors in canonical order.
type storiesModel struct {
	cfg     model.Config
	spec    tokenizer.Spec
	tensors []*tensor.Tensor
}

func loadStories(t testing.TB) *storiesModel {
	t.Helper()
	td := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	src, err := llama2c.Open(filepath.Join(td, "stories260K.bin"), filepath.Join(td, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := &storiesModel{cfg: src.Config(), spec: src.Tokenizer()}
	for _, info := range src.Tensors() {
		tt, err := src.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		s.tensors = append(s.tensors, tt)
	}
	return s
}

// get reads a tensor by name (model.New's fetch).
func (s *storiesModel) get(name string) (*tensor.Tensor, error) {
	for _, t := range s.tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, os.ErrNotExist
}

// bundleBytes is a fake executable: prefix bytes standing in for the
// program, then the bundle of the given tensors written with align.
func bundleBytes(t testing.TB, prefix int, align int, s *storiesModel) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Write(bytes.Repeat([]byte{0xCC}, prefix))
	bw, err := NewBundleWriter(&buf, int64(prefix), align)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range s.tensors {
		if err := bw.Add(tt, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Finish("stories260K", s.cfg, s.spec); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != bw.Size() {
		t.Fatalf("writer says %d bytes, wrote %d", bw.Size(), buf.Len())
	}
	return buf.Bytes()
}

// writeBundleFile writes a fake executable to a temporary file.
func writeBundleFile(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// openBytes opens a bundle held in memory (the fallback loader).
func openBytes(b []byte) (*Bundle, error) {
	r := bytes.NewReader(b)
	return openFrom(r, int64(len(b)), "mem", func(off, n int64) ([]byte, func() error, bool, error) {
		return readRegion(r, off, n, "mem")
	})
}

// mustTokenizer builds the model's tokenizer.
func mustTokenizer(t testing.TB, s *storiesModel) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.New(s.spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

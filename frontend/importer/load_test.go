package importer

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/frontend/llama2c"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// TestLoadReferenceBundled loads the bundled stories260K through
// LoadReference and checks the model against one built straight from the
// llama2.c source (the same logits bit for bit) and the tokenizer against
// the checkpoint's own.
func TestLoadReferenceBundled(t *testing.T) {
	dir := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	bin, tokBin := filepath.Join(dir, "stories260K.bin"), filepath.Join(dir, "tok512.bin")
	m, tok, err := LoadReference(bin, tokBin)
	if err != nil {
		t.Fatal(err)
	}
	src, err := llama2c.Open(bin, tokBin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	for pos, id := range []int{1, 403, 407} {
		a, err := m.Forward(id, pos)
		if err != nil {
			t.Fatal(err)
		}
		b, err := want.Forward(id, pos)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("pos %d: %d logits, want %d", pos, len(a), len(b))
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("pos %d: logit %d is %v, want %v", pos, i, a[i], b[i])
			}
		}
	}
	if got, want := tok.Spec().Tokens, src.Tokenizer().Tokens; len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("tokenizer has %d tokens, the checkpoint %d", len(got), len(want))
	}
}

func TestLoadReferenceErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.bin")
	if _, _, err := LoadReference(missing, ""); err == nil {
		t.Fatal("LoadReference of a missing file succeeded")
	}
	_, err := NewTokenizer(tokenizer.Spec{}, "bad.gguf")
	e, ok := omexerr.As(err)
	if !ok || e.Category != omexerr.Model || e.Code != "model.tokenizer" || e.File != "bad.gguf" {
		t.Fatalf("NewTokenizer of an empty spec: %v", err)
	}
}

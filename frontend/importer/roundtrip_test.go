package importer

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// TestImportRoundTripBitIdentical imports every real model input and checks
// that each stored tensor reads back from the package with the same dtype,
// shape, data bytes and scales as the source gave, and that Verify passes.
func TestImportRoundTripBitIdentical(t *testing.T) {
	td := testfiles.Shared(t)
	s := filepath.Join(td, "models", "stories260K")
	ts := filepath.Join(td, "models", "tinystories-656k")
	for _, c := range []struct{ path, tok string }{
		{filepath.Join(s, "stories260K.bin"), filepath.Join(s, "tok512.bin")},
		{filepath.Join(s, "stories260K_q80.bin"), filepath.Join(s, "tok512.bin")},
		{filepath.Join(s, "stories260K.gguf"), ""},
		{ts, ""},
		{filepath.Join(ts, "TinyStories-656K.f16.gguf"), ""},
		{filepath.Join(ts, "tinystories-656k-q8_0.gguf"), ""},
		{filepath.Join(ts, "TinyStories-656K-Q8_0.alt.gguf"), ""},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			src := openT(t, c.path, c.tok)
			pkg := importT(t, src)
			stored := pkg.Tensors()
			if len(stored) == 0 {
				t.Fatal("no tensors stored")
			}
			for _, ti := range stored {
				a, err := src.ReadTensor(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				b, err := pkg.ReadTensor(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) || !slices.Equal(a.Scales, b.Scales) {
					t.Fatalf("%s differs after import: %v%v vs %v%v", ti.Name, a.DType, a.Shape, b.DType, b.Shape)
				}
			}
			if src.Config() != pkg.Config() {
				t.Fatalf("config differs after import:\n%+v\n%+v", src.Config(), pkg.Config())
			}
			ss, ps := src.Tokenizer(), pkg.Tokenizer()
			if !slices.Equal(ss.Tokens, ps.Tokens) || !slices.Equal(ss.Scores, ps.Scores) || !slices.Equal(ss.Merges, ps.Merges) ||
				!slices.Equal(ss.Types, ps.Types) || ss.BOS != ps.BOS || ss.EOS != ps.EOS || ss.AddBOS != ps.AddBOS || ss.Kind != ps.Kind {
				t.Fatal("tokenizer differs after import")
			}
		})
	}
}

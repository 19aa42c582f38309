package tokenizer_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/omex-dev/omex/frontend/gguf"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// These tests run llama.cpp's tokenizer conformance cases on its vocab-only
// GGUF files, with the tokenizer spec read by frontend/gguf.

// ggufTokenizer builds the tokenizer a GGUF file describes.
func ggufTokenizer(t testing.TB, path string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, err := f.TokenizerSpec()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(spec)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tok
}

// bpeVocabCases reads the cases of a llama.cpp vocab test.
func bpeVocabCases(t testing.TB, vocab string) []tokenizer.GGMLVocabCase {
	t.Helper()
	cases, err := tokenizer.ReadGGMLVocabTest(
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".inp"),
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases read", len(cases))
	}
	return cases
}

// checkGGUFVocab encodes every case without BOS and without parsing control
// tokens, as test-tokenizer-0 does, and optionally checks the round trip.
func checkGGUFVocab(t *testing.T, vocab string, roundTrip bool) {
	tok := ggufTokenizer(t, testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab))
	for i, c := range bpeVocabCases(t, vocab) {
		got := tok.Encode(c.Text, tokenizer.EncodeOptions{})
		if !slices.Equal(got, c.IDs) {
			t.Errorf("case %d %q:\n got  %v\n want %v", i, c.Text, got, c.IDs)
			continue
		}
		if roundTrip {
			if back := tok.Decode(got); back != c.Text {
				t.Errorf("case %d: Decode(Encode(%q)) = %q", i, c.Text, back)
			}
		}
	}
}

func TestVocabGPT2GGUF(t *testing.T) { checkGGUFVocab(t, "ggml-vocab-gpt-2.gguf", true) }

// DeepSeek Coder's vocabulary has user-defined tokens ("ü" for the byte
// 0xFC, which valid UTF-8 never holds): Encode cuts them out of the text
// first, as Hugging Face and llama.cpp do, so "Führer" has one.
func TestVocabDeepseekCoderGGUF(t *testing.T) {
	checkGGUFVocab(t, "ggml-vocab-deepseek-coder.gguf", true)
}

// WordPiece does not round-trip (lowercasing, accents, spaces), so only the
// ids are checked.
func TestVocabBertBGEGGUF(t *testing.T) { checkGGUFVocab(t, "ggml-vocab-bert-bge.gguf", false) }

// TestVocabExtraGGUF loads each of llama.cpp's other vocab files, each with
// its own pre-tokenizer, and checks that every conformance text encodes and
// decodes back to itself (there are no reference ids for these).
func TestVocabExtraGGUF(t *testing.T) {
	dir := filepath.Dir(testfiles.SharedFile(t, "tokenizers/vocab-extra/ggml-vocab-falcon.gguf"))
	paths, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if err != nil || len(paths) < 5 {
		t.Fatalf("vocab-extra holds %d GGUF files (%v)", len(paths), err)
	}
	cases := bpeVocabCases(t, "ggml-vocab-deepseek-coder.gguf")
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			tok := ggufTokenizer(t, p)
			for i, c := range cases {
				ids := tok.Encode(c.Text, tokenizer.EncodeOptions{})
				if c.Text != "" && len(ids) == 0 {
					t.Errorf("case %d %q encodes to nothing", i, c.Text)
				}
				if back := tok.Decode(ids); back != c.Text {
					t.Errorf("case %d: Decode(Encode(%q)) = %q (ids %v)", i, c.Text, back, ids)
				}
			}
		})
	}
}

package tokenizer_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/omex-dev/omex/frontend/gguf"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// These tests run llama.cpp's SentencePiece conformance cases, and known
// prompt ids, on GGUF files, with the spec read by frontend/gguf.

// spmGGUFTokenizer builds the tokenizer of a GGUF file and returns its spec.
func spmGGUFTokenizer(t testing.TB, rel string) (*tokenizer.Tokenizer, tokenizer.Spec) {
	t.Helper()
	f, err := gguf.Open(testfiles.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, err := f.TokenizerSpec()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != tokenizer.SPM {
		t.Fatalf("%s: kind %s, want spm", rel, spec.Kind)
	}
	tok, err := tokenizer.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok, spec
}

// checkSPMGGUFVocab encodes every case as test-tokenizer-0 does (no BOS, no
// control-token parsing), compares the ids and checks the round trip.
func checkSPMGGUFVocab(t *testing.T, vocab string) {
	tok, _ := spmGGUFTokenizer(t, "tokenizers/vocab-tests/"+vocab)
	cases, err := tokenizer.ReadGGMLVocabTest(
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".inp"),
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases read", len(cases))
	}
	for i, c := range cases {
		got := tok.Encode(c.Text, tokenizer.EncodeOptions{})
		if !reflect.DeepEqual(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
			t.Errorf("case %d %q:\n got  %v\n want %v", i, c.Text, got, c.IDs)
			continue
		}
		if back := tok.Decode(got); back != c.Text {
			t.Errorf("case %d: Decode(Encode(%q)) = %q", i, c.Text, back)
		}
	}
}

func TestVocabLlamaSPMGGUF(t *testing.T) { checkSPMGGUFVocab(t, "ggml-vocab-llama-spm.gguf") }

func TestVocabPhi3GGUF(t *testing.T) { checkSPMGGUFVocab(t, "ggml-vocab-phi-3.gguf") }

// The prompt ids of the reference runs: llama2.c on stories260K (its GGUF
// carries the same 512-piece vocabulary) and HF on TinyStories-656K.
func TestGGUFOnceUponATime(t *testing.T) {
	for _, c := range []struct {
		file string
		want []int
	}{
		{"models/stories260K/stories260K.gguf", []int{1, 403, 407, 261, 378}},
		{"models/tinystories-656k/TinyStories-656K.f16.gguf", []int{1, 80, 147, 201, 282, 57}},
		{"models/tinystories-656k/tinystories-656k-q8_0.gguf", []int{1, 80, 147, 201, 282, 57}},
		{"models/tinystories-656k/TinyStories-656K-Q8_0.alt.gguf", []int{1, 80, 147, 201, 282, 57}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			tok, spec := spmGGUFTokenizer(t, c.file)
			got := tok.Encode("Once upon a time", tokenizer.EncodeOptions{AddBOS: spec.AddBOS})
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Encode = %v, want %v", got, c.want)
			}
			if s := tok.Decode(got); s != "Once upon a time" {
				t.Fatalf("Decode = %q", s)
			}
		})
	}
}

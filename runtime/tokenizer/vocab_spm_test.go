package tokenizer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// GGMLVocabCase is one llama.cpp tokenizer conformance case: a text and
// the ids it must encode to.
type GGMLVocabCase struct {
	Text string
	IDs  []int
}

// ReadGGMLVocabTest reads a llama.cpp vocab test pair the way its
// tests/test-tokenizer-0.cpp does: the .inp cases are separated by
// "\n__ggml_vocab_test__\n", and each .out line, trimmed, lists the ids of
// the case with the same index. It is exported for the GGUF-based tests in
// package tokenizer_test.
func ReadGGMLVocabTest(inpPath, outPath string) ([]GGMLVocabCase, error) {
	inp, err := os.ReadFile(inpPath)
	if err != nil {
		return nil, err
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		return nil, err
	}
	const sep = "\n__ggml_vocab_test__\n"
	var texts []string
	raw := string(inp)
	for pos := 0; pos < len(raw); {
		next := strings.Index(raw[pos:], sep)
		if next < 0 {
			texts = append(texts, raw[pos:])
			break
		}
		texts = append(texts, raw[pos:pos+next])
		pos += next + len(sep)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // getline yields no line after the final newline
	}
	if len(lines) != len(texts) {
		return nil, fmt.Errorf("%s has %d cases but %s has %d lines", inpPath, len(texts), outPath, len(lines))
	}
	cases := make([]GGMLVocabCase, len(texts))
	for i, text := range texts {
		cases[i].Text = text
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				return nil, err
			}
			cases[i].IDs = append(cases[i].IDs, id)
		}
	}
	return cases, nil
}

// These tests run llama.cpp's tokenizer conformance cases for the Llama 2
// SentencePiece vocabulary (ggml-vocab-llama-spm.gguf.inp/.out) against
// the same 32000-piece vocabulary read from other files.

func TestVocabLlamaSPMFromLlama2cBin(t *testing.T) {
	spec, err := LoadLlama2cBin(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.bin"), 32000)
	runVocabCases(t, mustTokenizer(t, spec, err), "ggml-vocab-llama-spm.gguf", true)
}

// runVocabCases encodes every case of a llama.cpp vocab test (no BOS, no
// special-token parsing, as test-tokenizer-0 does) and checks the ids; when
// roundTrip is set it also checks that decoding gives the text back.
func runVocabCases(t *testing.T, tok *Tokenizer, vocab string, roundTrip bool) {
	t.Helper()
	cases, err := ReadGGMLVocabTest(
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".inp"),
		testfiles.SharedFile(t, "tokenizers/vocab-tests/"+vocab+".out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases read", len(cases))
	}
	for i, c := range cases {
		got := tok.Encode(c.Text, EncodeOptions{})
		if !equalIDs(got, c.IDs) {
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

func equalIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestVocabLlamaSPMFromSentencePieceModel(t *testing.T) {
	spec, err := LoadSentencePieceModel(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.model"))
	runVocabCases(t, mustTokenizer(t, spec, err), "ggml-vocab-llama-spm.gguf", true)
}

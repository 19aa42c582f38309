package tokenizer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// TestVocabBertFromHFJSON runs llama.cpp's bert-bge conformance cases on
// bert-base-uncased's tokenizer.json: BGE's vocabulary is BERT's, spelled
// with "##" continuations here instead of GGUF's "▁" word starts.
func TestVocabBertFromHFJSON(t *testing.T) {
	spec, err := LoadHFJSON(testfiles.SharedFile(t, "tokenizers/hf-json/bert-base-uncased.json"))
	tok := mustTokenizer(t, spec, err)
	if tok.impl.(*wordPiece).spaceMarked {
		t.Fatal("a ## vocabulary was taken for the ▁ spelling")
	}
	runVocabCases(t, tok, "ggml-vocab-bert-bge.gguf", false)
}

// tinyWordPiece builds a small BERT vocabulary in either spelling.
func tinyWordPiece(t *testing.T, spaceMarked bool) *Tokenizer {
	t.Helper()
	words := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", "world", "!", ",", "cafe", "我", "##s", "a"}
	types := make([]int32, len(words))
	for i, w := range words {
		types[i] = TypeNormal
		if strings.HasPrefix(w, "[") {
			types[i] = TypeControl
			continue
		}
		if spaceMarked {
			if rest, ok := strings.CutPrefix(w, "##"); ok {
				words[i] = rest
			} else {
				words[i] = "\u2581" + w
			}
		}
	}
	tok, err := New(Spec{Kind: WordPiece, Tokens: words, Types: types, UNK: 1, BOS: 2, EOS: 3, PAD: 0,
		Lowercase: true, StripAccents: true})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestWordPieceBasics(t *testing.T) {
	cases := []struct {
		text string
		want []int
	}{
		{"unaffable", []int{4, 5, 6}},
		{"Hello,World!", []int{7, 10, 8, 9}},
		{"  HELLO\t\nworld  ", []int{7, 8}},
		{"Café", []int{11}},                     // accent stripped after NFD, lowercased
		{"un\u200baff\x00able", []int{4, 5, 6}}, // Cf and NUL dropped, the word joins
		{"我我", []int{12, 12}},                   // CJK ideographs are words of their own
		{"unaffablex", []int{1}},                // an unmatched tail makes the whole word UNK
		{"as", []int{14, 13}},
		{strings.Repeat("a", 101), []int{1}}, // over 100 characters
		{"", nil},
	}
	for _, spaceMarked := range []bool{false, true} {
		tok := tinyWordPiece(t, spaceMarked)
		if got := tok.impl.(*wordPiece).spaceMarked; got != spaceMarked {
			t.Fatalf("spelling detected as spaceMarked=%v", got)
		}
		for _, c := range cases {
			if got := tok.impl.encode(c.text); !reflect.DeepEqual(got, c.want) {
				t.Errorf("spaceMarked=%v: encode(%q) = %v, want %v", spaceMarked, c.text, got, c.want)
			}
		}
		var b []byte
		for _, id := range []int{2, 4, 5, 6, 10, 8} {
			b = append(b, tok.impl.piece(id)...)
		}
		if got := string(b); got != "[CLS] unaffable , world" {
			t.Errorf("spaceMarked=%v: pieces join to %q", spaceMarked, got)
		}
	}
}

func TestWordPieceNoLowercase(t *testing.T) {
	tok, err := New(Spec{Kind: WordPiece, Tokens: []string{"[UNK]", "Hello", "hello", "é"}, UNK: 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.impl.encode("Hello hello é"); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Errorf("got %v", got)
	}
}

// TestWordPieceDecodeNoLeadingSpace: decoded WordPiece text starts with the
// first word, not with the separator its piece carries.
func TestWordPieceDecodeNoLeadingSpace(t *testing.T) {
	spec := Spec{Kind: WordPiece, Tokens: []string{"[UNK]", "hello", "world", "##s"}, BOS: -1, EOS: -1, UNK: 0, PAD: -1, Lowercase: true}
	tok, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("Hello worlds", EncodeOptions{})
	if got := tok.Decode(ids); got != "hello worlds" {
		t.Fatalf("decode(%v) = %q, want %q", ids, got, "hello worlds")
	}
}

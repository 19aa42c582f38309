package tokenizer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

// tinyVocab is a small byte-level vocabulary: the letters it needs, "Ġ"
// (space) and a few merges.
const tinyVocab = `{"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "he": 5, "ll": 6, "hell": 7, "hello": 8, "Ġh": 9, "<|endoftext|>": 10}`
const tinyMerges = "#version: 0.2\nh e\nl l\nhe ll\nhell o\nĠ h\n"

func TestParseVocabMerges(t *testing.T) {
	spec, err := ParseVocabMerges([]byte(tinyVocab), []byte(tinyMerges), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != BPE || spec.Pre != "gpt2" || len(spec.Tokens) != 11 || spec.Tokens[8] != "hello" {
		t.Fatalf("spec %+v", spec)
	}
	if want := []string{"h e", "l l", "he ll", "hell o", "Ġ h"}; !reflect.DeepEqual(spec.Merges, want) {
		t.Errorf("merges %q", spec.Merges)
	}
	if spec.BOS != 10 || spec.EOS != 10 || spec.Types[10] != TypeControl || spec.Types[0] != TypeNormal {
		t.Errorf("BOS %d EOS %d types %v", spec.BOS, spec.EOS, spec.Types)
	}
	tok := mustTokenizer(t, spec, nil)
	// In " hello", "h e" (rank 0) merges before "Ġ h" (rank 4) gets its
	// turn, and "Ġ he" is no merge: the space stays a token of its own.
	if got, want := tok.impl.encode("hello hello"), []int{8, 4, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("encode = %v, want %v", got, want)
	}
	if got, want := tok.impl.encode("hoe"), []int{0, 3, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("encode(hoe) = %v, want %v", got, want)
	}
}

func TestParseVocabMergesErrors(t *testing.T) {
	cases := []struct {
		name, vocab, merges, want string
		offset                    int64
	}{
		{"not json", `["a"]`, "", "not a JSON object", 0},
		{"bad id", `{"a": 1.5}`, "", "not a valid id", 4},
		{"negative id", `{"a": -1}`, "", "not a valid id", 4},
		{"duplicate id", `{"a": 0, "b": 0}`, "", "given to both", 12},
		{"sparse", `{"a": 0, "b": 100000}`, "", "ids go up to", 0},
		{"empty", `{}`, "", "empty vocabulary", 0},
		{"trailing", `{"a": 0} x`, "", "after the vocabulary", 9},
		{"truncated", `{"a": 0, "b"`, "", "bad JSON", 12},
		{"merge shape", `{"a": 0, "b": 1, "ab": 2}`, "a b\nab\n", "line 2", 4},
		{"merge unknown", `{"a": 0, "b": 1}`, "#version: 0.2\na b\n", "\"ab\" is not in the vocabulary", 14},
	}
	for _, c := range cases {
		_, err := ParseVocabMerges([]byte(c.vocab), []byte(c.merges), "v.json")
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.File != "v.json" || !strings.Contains(err.Error(), c.want) || e.Offset != c.offset {
			t.Errorf("%s: error %v (offset %d), want a ModelError on v.json at %d with %q", c.name, err, e.Offset, c.offset, c.want)
		}
	}
	if _, err := LoadVocabMerges("/nonexistent/vocab.json", "/nonexistent/merges.txt"); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseVocabMerges feeds arbitrary vocab.json and merges.txt: the
// parser must return a spec or an error, never panic, and a spec it accepts
// must build a tokenizer that encodes and decodes without trouble.
func FuzzParseVocabMerges(f *testing.F) {
	f.Add([]byte(tinyVocab), []byte(tinyMerges))
	f.Add([]byte(`{"a": 0, "b": 2}`), []byte("a b"))
	f.Add([]byte(`{"\u0120": 0}`), []byte("\r\n\r\n"))
	if v, m := testfiles.OptionalFile("tokenizers/gpt2/vocab.json"), testfiles.OptionalFile("tokenizers/gpt2/merges.txt"); v != nil && m != nil {
		f.Add(v[:min(len(v), 4000)], m[:min(len(m), 4000)])
	}
	f.Fuzz(func(t *testing.T, vocab, merges []byte) {
		spec, err := ParseVocabMerges(vocab, merges, "fuzz")
		if err != nil {
			if _, ok := omexerr.As(err); !ok {
				t.Fatalf("error outside the omexerr family: %v", err)
			}
			return
		}
		tok, err := New(spec)
		if err != nil {
			t.Fatalf("accepted spec does not build: %v", err)
		}
		for _, id := range tok.impl.encode("hello wörld \xff 123") {
			if id < 0 || id >= len(spec.Tokens) {
				t.Fatalf("id %d out of range", id)
			}
			tok.impl.piece(id)
		}
	})
}

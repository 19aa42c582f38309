package tokenizer

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

// tiktokenLines writes tokens as tiktoken rank lines, ranked in order.
func tiktokenLines(tokens ...string) string {
	var b strings.Builder
	for i, tok := range tokens {
		fmt.Fprintf(&b, "%s %d\n", base64.StdEncoding.EncodeToString([]byte(tok)), i)
	}
	return b.String()
}

func TestParseTiktoken(t *testing.T) {
	var toks []string
	for c := 0; c < 256; c++ {
		toks = append(toks, string([]byte{byte(c)}))
	}
	toks = append(toks, "ab", "bc", " b", "abc")
	spec, err := ParseTiktoken([]byte(tiktokenLines(toks...)), "t.tiktoken")
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Tokens) != 260+256 || spec.Tokens[' '] != "Ġ" || spec.Tokens[258] != "Ġb" {
		t.Fatalf("%d tokens, space %q, 258 %q", len(spec.Tokens), spec.Tokens[' '], spec.Tokens[258])
	}
	if spec.BOS != 260 || spec.EOS != 261 || spec.Tokens[260+9] != "<|eot_id|>" || spec.Types[260] != TypeControl || !spec.AddBOS {
		t.Errorf("BOS %d EOS %d 269 %q", spec.BOS, spec.EOS, spec.Tokens[269])
	}
	tok := mustTokenizer(t, spec, nil)
	cases := map[string][]int{
		"abc":  {259},      // the whole piece is a token: taken as is
		"abcb": {259, 'b'}, // ab (rank 256) before bc (257), then ab+c
		"xbc":  {'x', 257}, // no pair with x is a token
		" b":   {258},
	}
	for text, want := range cases {
		if got := tok.impl.encode(text); !reflect.DeepEqual(got, want) {
			t.Errorf("encode(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestParseTiktokenErrors(t *testing.T) {
	cases := []struct {
		name, data, want string
		offset           int64
	}{
		{"no rank", "YQ==\n", "line 1", 0},
		{"bad base64", "YQ== 0\n!!! 1\n", "not non-empty base64", 7},
		{"bad rank", "YQ== x\n", "not a valid rank", 0},
		{"duplicate rank", "YQ== 0\nYg== 0\n", "given to both", 7},
		{"duplicate token", "YQ== 0\nYQ== 1\n", "has ranks", 7},
		{"sparse", "YQ== 0\nYg== 99999\n", "ranks go up to", 0},
		{"empty", "\n\n", "no token ranks", 0},
	}
	for _, c := range cases {
		_, err := ParseTiktoken([]byte(c.data), "t.model")
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.File != "t.model" || !strings.Contains(err.Error(), c.want) || e.Offset != c.offset {
			t.Errorf("%s: error %v, want a ModelError on t.model at %d with %q", c.name, err, c.offset, c.want)
		}
	}
}

// TestLoadTiktokenLlama3 checks the Llama 3 file and its config's specials.
func TestLoadTiktokenLlama3(t *testing.T) {
	spec, err := LoadTiktoken(testfiles.SharedFile(t, "tokenizers/llama3/tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Tokens) != 128256 || spec.Tokens[128000] != "<|begin_of_text|>" || spec.Tokens[128255] != "<|reserved_special_token_250|>" {
		t.Fatalf("%d tokens", len(spec.Tokens))
	}
	// tokenizer_config.json names <|eot_id|> as eos_token (an instruct
	// model's config).
	if spec.BOS != 128000 || spec.EOS != 128009 || !spec.AddBOS || spec.Types[128001] != TypeControl || spec.Types[127999] != TypeNormal {
		t.Errorf("BOS %d EOS %d AddBOS %v", spec.BOS, spec.EOS, spec.AddBOS)
	}
	// Without the config, Llama 3's own list gives the same tokens.
	raw := testfiles.OptionalFile("tokenizers/llama3/tokenizer.model")
	bare, err := ParseTiktoken(raw, "tokenizer.model")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bare.Tokens, spec.Tokens) || bare.EOS != 128001 {
		t.Errorf("built-in Llama 3 specials differ from the config's (EOS %d)", bare.EOS)
	}
	tok := mustTokenizer(t, spec, nil)
	got := tok.Encode("<|begin_of_text|>Hello", EncodeOptions{ParseSpecial: true})
	if want := []int{128000, 9906}; !reflect.DeepEqual(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// FuzzParseTiktoken feeds arbitrary tiktoken files: an error or a spec that
// builds a working tokenizer, never a panic.
func FuzzParseTiktoken(f *testing.F) {
	f.Add([]byte(tiktokenLines("a", "b", "ab", " ", " a")))
	f.Add([]byte("IQ== 0\r\nIg== 2\n\nIw== 1"))
	if b := testfiles.OptionalFile("tokenizers/llama3/tokenizer.model"); b != nil {
		f.Add(b[:2000])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseTiktoken(data, "fuzz")
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
		for _, id := range tok.impl.encode("ab a\xffb !!") {
			if id < 0 || id >= len(spec.Tokens) {
				t.Fatalf("id %d out of range", id)
			}
		}
	})
}

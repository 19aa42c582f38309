package tokenizer

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

func splitWith(t *testing.T, spec Spec, text string) []string {
	t.Helper()
	p, err := newPreTokenizer(&spec)
	if err != nil {
		t.Fatal(err)
	}
	return p.split(text)
}

func TestPreTokenizerSplits(t *testing.T) {
	cases := []struct {
		pre, text string
		want      []string
	}{
		{"gpt2", "Hello world  !!", []string{"Hello", " world", " ", " !!"}},
		{"gpt-2", "I've 33 cats\n\n", []string{"I", "'ve", " 33", " cats", "\n\n"}},
		{"gpt2", "a\tb", []string{"a", "\t", "b"}},
		{"llama3", "3333333 I'VE", []string{"333", "333", "3", " I", "'VE"}},
		{"llama-bpe", "'ſt", []string{"'ſ", "t"}}, // Unicode case folding: ſ is s
		{"llama3", "x  \n\n y", []string{"x", "  \n\n", " y"}},
		{"qwen2", "333 ab", []string{"3", "3", "3", " ab"}},
		{"starcoder", "x 12", []string{"x", " ", "1", "2"}},
		{"deepseek-coder", "a1\nb", []string{"a", "1", "\n", "b"}},
		{"superbpe", "1234567", []string{"1", "234", "567"}}, // zero-width matches split
		{"bloom", "ab(c|d).e", []string{"ab", "(", "c", "|", "d", ").", "e"}},
		{"gpt-4o", "HelloWorld", []string{"Hello", "World"}},
	}
	for _, c := range cases {
		if got := splitWith(t, Spec{Pre: c.pre}, c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s split %q = %q, want %q", c.pre, c.text, got, c.want)
		}
	}
}

func TestPreRegexWins(t *testing.T) {
	got := splitWith(t, Spec{Pre: "gpt2", PreRegex: []string{"[0-9]", "b+"}}, "ab1bbc")
	if want := []string{"a", "b", "1", "bb", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := newPreTokenizer(&Spec{PreRegex: []string{"(unclosed"}}); err == nil {
		t.Error("a bad regex compiled")
	}
}

func TestPreTokenizerUnknownName(t *testing.T) {
	_, err := newPreTokenizer(&Spec{Pre: "no-such-pre"})
	if err == nil || !strings.Contains(err.Error(), "no-such-pre") || !strings.Contains(err.Error(), "deepseek-coder") {
		t.Errorf("error %v should name the bad pre-tokenizer and list the known ones", err)
	}
}

// TestEveryPreTokenizerKeepsText splits some tricky text, invalid UTF-8
// included, with every known pre-tokenizer: the words must put the text
// back together exactly, and none may be empty.
func TestEveryPreTokenizerKeepsText(t *testing.T) {
	checkPreKeepsText(t, "ab\xff\xfe c\xc3", "3.3 ..3 'll 我想 \u00a0\u3000x\r\n", "")
}

// TestEveryPreTokenizerOnConformanceText does the same with llama.cpp's
// conformance text.
func TestEveryPreTokenizerOnConformanceText(t *testing.T) {
	b, err := os.ReadFile(testfiles.SharedFile(t, "tokenizers/vocab-tests/ggml-vocab-gpt-2.gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	checkPreKeepsText(t, string(b))
}

func checkPreKeepsText(t *testing.T, texts ...string) {
	for _, name := range append(PreTokenizerNames(), "") {
		for _, text := range texts {
			words := splitWith(t, Spec{Pre: name}, text)
			if strings.Join(words, "") != text {
				t.Errorf("%q: words do not rebuild %q", name, text[:min(len(text), 40)])
			}
			for _, w := range words {
				if w == "" {
					t.Errorf("%q: empty word", name)
				}
			}
		}
	}
}

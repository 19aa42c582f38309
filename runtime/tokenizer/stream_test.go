package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/omex-dev/omex/internal/testfiles"
)

// streamAll feeds ids one by one and returns every chunk, Flush last.
func streamAll(tok *Tokenizer, ids []int) []string {
	d := NewStreamDecoder(tok)
	var chunks []string
	for _, id := range ids {
		chunks = append(chunks, d.Next(id))
	}
	return append(chunks, d.Flush())
}

func TestStreamDecoderByteFallback(t *testing.T) {
	spec, err := LoadLlama2cBin(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.bin"), 32000)
	tok := mustTokenizer(t, spec, err)
	texts := []string{
		"Hello 🦙 world",          // emoji as four byte tokens
		"我想在apple工作 饕餮龘靐",        // CJK, some pieces, some bytes
		"🚀 (normal) 😶‍🌫️ ✅ done", // joiners and variation selectors
		" កាន់តែពិសេស",           // Khmer, mostly byte fallback
	}
	for _, text := range texts {
		ids := tok.Encode(text, EncodeOptions{AddBOS: true})
		sawBytes := false
		for _, id := range ids {
			sawBytes = sawBytes || spec.Types[id] == TypeByte
		}
		if !sawBytes {
			t.Fatalf("%q: no byte tokens, the test does not exercise holding bytes", text)
		}
		chunks := streamAll(tok, ids)
		for i, c := range chunks {
			if !utf8.ValidString(c) {
				t.Errorf("%q: chunk %d %q is not whole UTF-8", text, i, c)
			}
		}
		if got := strings.Join(chunks, ""); got != tok.Decode(ids) || got != text {
			t.Errorf("%q: stream %q, Decode %q", text, got, tok.Decode(ids))
		}
	}
}

func TestStreamDecoderHoldsAndFlushes(t *testing.T) {
	tok := tinySPM(t, true)
	b := func(x byte) int { return 12 + int(x) } // byte token ids in tinySPM
	// "é" = C3 A9, split over two tokens; then a stray E4 that never
	// completes is passed on once the next byte shows it cannot.
	d := NewStreamDecoder(tok)
	steps := []struct {
		id   int
		want string
	}{
		{1, ""}, {9, "a"}, {b(0xC3), ""}, {b(0xA9), "é"}, {b(0xE4), ""}, {4, "\xe4a"}, {b(0xF0), ""}, {b(0x9F), ""},
	}
	for i, s := range steps {
		if got := d.Next(s.id); got != s.want {
			t.Fatalf("step %d: Next(%d) = %q, want %q", i, s.id, got, s.want)
		}
	}
	if got := d.Flush(); got != "\xf0\x9f" {
		t.Fatalf("Flush = %q", got)
	}
	if got := d.Flush(); got != "" {
		t.Fatalf("second Flush = %q", got)
	}
	ids := []int{1, 9, b(0xC3), b(0xA9), b(0xE4), 4, b(0xF0), b(0x9F)}
	if got, want := strings.Join(streamAll(tok, ids), ""), tok.Decode(ids); got != want {
		t.Fatalf("stream %q != Decode %q", got, want)
	}
}

func TestStreamDecoderMatchesDecodeOnVocabCases(t *testing.T) {
	spec, err := LoadSentencePieceModel(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.model"))
	tok := mustTokenizer(t, spec, err)
	cases, err := ReadGGMLVocabTest(
		testfiles.SharedFile(t, "tokenizers/vocab-tests/ggml-vocab-llama-spm.gguf.inp"),
		testfiles.SharedFile(t, "tokenizers/vocab-tests/ggml-vocab-llama-spm.gguf.out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		ids := append([]int{spec.BOS}, c.IDs...)
		if got, want := strings.Join(streamAll(tok, ids), ""), tok.Decode(ids); got != want || got != c.Text {
			t.Errorf("%q: stream %q, Decode %q", c.Text, got, want)
		}
	}
}

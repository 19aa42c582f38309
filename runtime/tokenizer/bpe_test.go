package tokenizer

import (
	"testing"
)

func TestByteLevelAlphabet(t *testing.T) {
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := byteToRune[b]
		if seen[r] {
			t.Fatalf("byte %d maps to %q twice", b, r)
		}
		seen[r] = true
	}
	if byteToRune[' '] != 'Ġ' || byteToRune['\n'] != 'Ċ' || byteToRune['a'] != 'a' || byteToRune[0xAD] != 'Ń' {
		t.Errorf("space, newline, a, soft hyphen map to %q %q %q %q", byteToRune[' '], byteToRune['\n'], byteToRune['a'], byteToRune[0xAD])
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	back, ok := byteLevelDecode(byteLevelEncode(string(all)))
	if !ok || string(back) != string(all) {
		t.Errorf("round trip of all bytes failed")
	}
	if _, ok := ByteLevelToBytes("<｜begin▁of▁sentence｜>"); ok {
		t.Errorf("a token outside the alphabet decoded")
	}
}

// TestVocabGPT2FromVocabMerges runs llama.cpp's GPT-2 conformance cases on
// OpenAI's vocab.json + merges.txt.
func TestVocabGPT2FromVocabMerges(t *testing.T) {
	spec, err := LoadVocabMerges(sharedTestdata(t, "tokenizers/gpt2/vocab.json"), sharedTestdata(t, "tokenizers/gpt2/merges.txt"))
	tok := mustTokenizer(t, spec, err)
	if spec.BOS != 50256 || spec.EOS != 50256 || len(spec.Tokens) != 50257 || len(spec.Merges) != 50000 {
		t.Errorf("BOS %d EOS %d tokens %d merges %d", spec.BOS, spec.EOS, len(spec.Tokens), len(spec.Merges))
	}
	runVocabCases(t, tok, "ggml-vocab-gpt-2.gguf", true)
}

// TestVocabLlamaBPEFromTiktoken runs the Llama 3 cases on the tiktoken file.
func TestVocabLlamaBPEFromTiktoken(t *testing.T) {
	spec, err := LoadTiktoken(sharedTestdata(t, "tokenizers/llama3/tokenizer.model"))
	tok := mustTokenizer(t, spec, err)
	runVocabCases(t, tok, "ggml-vocab-llama-bpe.gguf", true)
}

// TestVocabQwen2FromVocabMerges runs the Qwen2 cases on Qwen2's files.
func TestVocabQwen2FromVocabMerges(t *testing.T) {
	spec, err := LoadVocabMerges(sharedTestdata(t, "tokenizers/qwen2/vocab.json"), sharedTestdata(t, "tokenizers/qwen2/merges.txt"))
	spec.Pre = "qwen2"
	runVocabCases(t, mustTokenizer(t, spec, err), "ggml-vocab-qwen2.gguf", true)
}

package tokenizer

import (
	"strings"
	"sync"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
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
	spec, err := LoadVocabMerges(testfiles.SharedFile(t, "tokenizers/gpt2/vocab.json"), testfiles.SharedFile(t, "tokenizers/gpt2/merges.txt"))
	tok := mustTokenizer(t, spec, err)
	if spec.BOS != 50256 || spec.EOS != 50256 || len(spec.Tokens) != 50257 || len(spec.Merges) != 50000 {
		t.Errorf("BOS %d EOS %d tokens %d merges %d", spec.BOS, spec.EOS, len(spec.Tokens), len(spec.Merges))
	}
	runVocabCases(t, tok, "ggml-vocab-gpt-2.gguf", true)
}

// TestVocabLlamaBPEFromTiktoken runs the Llama 3 cases on the tiktoken file.
func TestVocabLlamaBPEFromTiktoken(t *testing.T) {
	spec, err := LoadTiktoken(testfiles.SharedFile(t, "tokenizers/llama3/tokenizer.model"))
	tok := mustTokenizer(t, spec, err)
	runVocabCases(t, tok, "ggml-vocab-llama-bpe.gguf", true)
}

// TestVocabQwen2FromVocabMerges runs the Qwen2 cases on Qwen2's files.
func TestVocabQwen2FromVocabMerges(t *testing.T) {
	spec, err := LoadVocabMerges(testfiles.SharedFile(t, "tokenizers/qwen2/vocab.json"), testfiles.SharedFile(t, "tokenizers/qwen2/merges.txt"))
	spec.Pre = "qwen2"
	runVocabCases(t, mustTokenizer(t, spec, err), "ggml-vocab-qwen2.gguf", true)
}

var (
	gpt2Once sync.Once
	gpt2Tok  *Tokenizer
	gpt2Err  error
)

// gpt2Tokenizer loads GPT-2's vocab.json + merges.txt once per test binary.
func gpt2Tokenizer(t testing.TB) *Tokenizer {
	vocab := testfiles.SharedFile(t, "tokenizers/gpt2/vocab.json")
	merges := testfiles.SharedFile(t, "tokenizers/gpt2/merges.txt")
	gpt2Once.Do(func() {
		var spec Spec
		if spec, gpt2Err = LoadVocabMerges(vocab, merges); gpt2Err == nil {
			gpt2Tok, gpt2Err = New(spec)
		}
	})
	if gpt2Err != nil {
		t.Fatal(gpt2Err)
	}
	return gpt2Tok
}

// fuzzPres are the pre-tokenizers FuzzBPEEncode also splits with.
var fuzzPres = []string{"gpt2", "llama3", "qwen2", "deepseek-coder", "deepseek-llm", "falcon", "default", "bloom", "gpt-4o", "tekken"}

// FuzzBPEEncode encodes arbitrary bytes with GPT-2's vocabulary: every id
// must be valid and the pieces must give the exact bytes back (byte-level
// BPE is lossless, for invalid UTF-8 too). Each pre-tokenizer in fuzzPres
// must split the input into words that rebuild it.
func FuzzBPEEncode(f *testing.F) {
	for _, s := range []string{"Hello world", " this is 🦙.cpp", "\xff\xfe\x00ab", "3333 'll \n\n \t", "我想在apple工作"} {
		f.Add(s)
	}
	tok := gpt2Tokenizer(f)
	var pres []*preTokenizer
	for _, name := range fuzzPres {
		p, err := newPreTokenizer(&Spec{Pre: name})
		if err != nil {
			f.Fatal(err)
		}
		pres = append(pres, p)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var back []byte
		for _, id := range tok.impl.encode(text) {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
			back = append(back, tok.impl.piece(id)...)
		}
		if string(back) != text {
			t.Fatalf("round trip of %q gave %q", text, back)
		}
		for i, p := range pres {
			if strings.Join(p.split(text), "") != text {
				t.Fatalf("%s words do not rebuild %q", fuzzPres[i], text)
			}
		}
	})
}

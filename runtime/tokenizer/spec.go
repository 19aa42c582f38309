// Package tokenizer turns text into token ids and back, exactly as the
// reference tokenizers of each model family do.
package tokenizer

// Kind names a tokenizer algorithm.
type Kind string

// The algorithms.
const (
	// SPM is SentencePiece-style BPE over Unicode pieces with scores and
	// byte fallback (Llama 2, llama2.c tokenizer.bin, GGUF "llama").
	SPM Kind = "spm"
	// BPE is byte-level BPE with merge ranks and a pre-tokenizer (GPT-2,
	// Llama 3, Qwen2, DeepSeek; GGUF "gpt2").
	BPE Kind = "bpe"
	// WordPiece is BERT's greedy longest-match-first subword tokenizer.
	WordPiece Kind = "wordpiece"
)

// Token types, with GGUF's numbering (tokenizer.ggml.token_type).
const (
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// Spec is everything needed to build a tokenizer, independent of the file it
// came from. Loaders (tokenizer.bin, tokenizer.json, vocab.json+merges.txt,
// tiktoken, GGUF metadata, an OMEX package) produce a Spec; New builds the
// tokenizer from it. SPM pieces use "▁" (U+2581) for a space; BPE pieces are
// in GPT-2's byte-to-unicode alphabet.
type Spec struct {
	Kind   Kind
	Tokens []string  // piece of each id
	Scores []float32 // SPM merge scores (nil for BPE); also WordPiece ignores it
	Types  []int32   // token type per id (nil means all normal)
	Merges []string  // BPE merges in rank order, "left right"

	// Pre names the pre-tokenizer of a BPE tokenizer as GGUF's
	// tokenizer.ggml.pre does ("gpt2", "llama3"/"llama-bpe", "qwen2",
	// "deepseek-coder", "deepseek-llm", "falcon", "mpt", "starcoder",
	// "refact", "gpt-neox", ...). PreRegex, when set, lists the split
	// regexes explicitly (from an HF tokenizer.json) and wins over Pre.
	Pre      string
	PreRegex []string
	// IgnoreMerges makes BPE take a pre-tokenized word whole when it is a
	// vocabulary entry, before any merging (Hugging Face's BPE
	// ignore_merges). The Llama 3 family of Pre names implies it.
	IgnoreMerges bool

	BOS, EOS, UNK, PAD int // -1 when absent
	AddBOS, AddEOS     bool

	// AddSpacePrefix prepends "▁" to the text before SPM encoding
	// (SentencePiece's add_dummy_prefix).
	AddSpacePrefix bool
	// ByteFallback encodes unknown characters as <0xXX> byte tokens.
	ByteFallback bool
	// Lowercase and StripAccents are BERT normalizer options.
	Lowercase, StripAccents bool
}

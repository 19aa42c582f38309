package gguf

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// Tokenizer returns the tokenizer described by the file's tokenizer.ggml.*
// metadata, computed at open; it is the zero Spec when TokenizerSpec fails.
func (g *File) Tokenizer() tokenizer.Spec { return g.tok }

// TokenizerSpec returns the tokenizer Spec, or why the metadata does not
// describe one this project supports.
func (g *File) TokenizerSpec() (tokenizer.Spec, error) { return g.tok, g.tokErr }

// tokErrorf is a ModelError about the file's tokenizer metadata.
func (g *File) tokErrorf(format string, args ...any) *omexerr.Error {
	return omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(g.name)
}

// buildTokenizer translates the metadata, following llama.cpp's defaults
// (llama-vocab.cpp) for keys a file leaves out.
func (g *File) buildTokenizer() (tokenizer.Spec, error) {
	kind, ok := g.String("tokenizer.ggml.model")
	if !ok {
		return tokenizer.Spec{}, g.tokErrorf("no tokenizer.ggml.model string: the file carries no tokenizer")
	}
	tokens, ok := g.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return tokenizer.Spec{}, g.tokErrorf("tokenizer.ggml.tokens is missing, empty or not a string array")
	}
	spec := tokenizer.Spec{Tokens: tokens}
	if _, present := g.Lookup("tokenizer.ggml.token_type"); present {
		types, ok := g.Int32s("tokenizer.ggml.token_type")
		if !ok || len(types) != len(tokens) {
			return tokenizer.Spec{}, g.tokErrorf("tokenizer.ggml.token_type is not an integer array of %d entries", len(tokens))
		}
		spec.Types = types
	}
	if _, present := g.Lookup("tokenizer.ggml.scores"); present {
		scores, ok := g.Float32s("tokenizer.ggml.scores")
		if !ok || len(scores) != len(tokens) {
			return tokenizer.Spec{}, g.tokErrorf("tokenizer.ggml.scores is not a float array of %d entries", len(tokens))
		}
		spec.Scores = scores
	}
	n := len(tokens)
	spec.BOS = g.tokenID("tokenizer.ggml.bos_token_id", n, -1)
	spec.EOS = g.tokenID("tokenizer.ggml.eos_token_id", n, -1)
	spec.UNK = g.tokenID("tokenizer.ggml.unknown_token_id", n, -1)
	spec.PAD = g.tokenID("tokenizer.ggml.padding_token_id", n, -1)

	switch kind {
	case "llama":
		spec.Kind = tokenizer.SPM
		// llama.cpp's SPM defaults: <unk> 0, <s> 1, </s> 2.
		spec.BOS = g.tokenID("tokenizer.ggml.bos_token_id", n, 1)
		spec.EOS = g.tokenID("tokenizer.ggml.eos_token_id", n, 2)
		spec.UNK = g.tokenID("tokenizer.ggml.unknown_token_id", n, 0)
		if spec.Scores == nil {
			// llama.cpp scores every piece 0 when the file has none.
			spec.Scores = make([]float32, len(tokens))
		}
		spec.AddBOS = g.boolOr("tokenizer.ggml.add_bos_token", true)
		spec.AddEOS = g.boolOr("tokenizer.ggml.add_eos_token", false)
		spec.AddSpacePrefix = g.boolOr("tokenizer.ggml.add_space_prefix", true)
		spec.ByteFallback = true
	case "gpt2":
		spec.Kind = tokenizer.BPE
		merges, ok := g.Strings("tokenizer.ggml.merges")
		if !ok {
			return tokenizer.Spec{}, g.tokErrorf("BPE tokenizer without a tokenizer.ggml.merges string array")
		}
		spec.Merges = merges
		spec.Scores = nil
		spec.Pre = "default"
		if pre, ok := g.String("tokenizer.ggml.pre"); ok && pre != "" {
			spec.Pre = pre
		}
		spec.AddBOS = g.boolOr("tokenizer.ggml.add_bos_token", bpeAddsBOS(spec.Pre))
		spec.AddEOS = g.boolOr("tokenizer.ggml.add_eos_token", false)
		spec.AddSpacePrefix = g.boolOr("tokenizer.ggml.add_space_prefix", false)
	case "bert":
		spec.Kind = tokenizer.WordPiece
		// BERT brackets a sequence with [CLS] ... [SEP]: llama.cpp's WPM
		// adds them as its BOS and SEP tokens.
		// BERT's ids ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102) are
		// llama.cpp's defaults; "seperator" is GGUF's spelling.
		spec.BOS = g.tokenID("tokenizer.ggml.cls_token_id", n, g.tokenID("tokenizer.ggml.bos_token_id", n, 101))
		spec.EOS = g.tokenID("tokenizer.ggml.seperator_token_id", n, g.tokenID("tokenizer.ggml.eos_token_id", n, 102))
		spec.UNK = g.tokenID("tokenizer.ggml.unknown_token_id", n, 100)
		spec.PAD = g.tokenID("tokenizer.ggml.padding_token_id", n, 0)
		spec.AddBOS = g.boolOr("tokenizer.ggml.add_bos_token", true)
		spec.AddEOS = g.boolOr("tokenizer.ggml.add_sep_token", true)
		spec.Lowercase = true
		spec.StripAccents = true
	default:
		return tokenizer.Spec{}, omexerr.Modelf("model.unsupported_tokenizer",
			"tokenizer model %q is not supported (llama, gpt2 and bert are)", kind).WithFile(g.name)
	}
	return spec, nil
}

// bpeAddsBOS is llama.cpp's add_bos default for a BPE pre-tokenizer name:
// only the Llama 3 family, Tekken and Chameleon add one unless told.
func bpeAddsBOS(pre string) bool {
	switch pre {
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
		"tekken", "chameleon":
		return true
	}
	return false
}

// tokenID returns the token id stored under key, or def when it is absent
// or names no token (llama.cpp ignores such ids too, e.g. 0xFFFFFFFF). A
// default that names no token becomes -1.
func (g *File) tokenID(key string, n, def int) int {
	if v, ok := g.Uint(key); ok && v < uint64(n) {
		return int(v)
	}
	if def >= n {
		return -1
	}
	return def
}

// boolOr returns the boolean under key, or def when it is absent.
func (g *File) boolOr(key string, def bool) bool {
	if b, ok := g.Bool(key); ok {
		return b
	}
	return def
}

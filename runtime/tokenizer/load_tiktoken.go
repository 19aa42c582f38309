package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// LoadTiktoken reads a tiktoken BPE file, as Llama 3's tokenizer.model is:
// one "base64-token rank" line per token. Tokens are converted to GPT-2's
// byte-level alphabet and numbered by rank; the spec has no merges, which
// puts the BPE encoder in tiktoken's rank mode (see bpe.go), and the
// "llama3" pre-tokenizer. Special tokens come after the ranks: from the
// added_tokens_decoder of a tokenizer_config.json next to the file when
// there is one (BOS and EOS then follow its bos_token and eos_token), else
// Llama 3's 256 (<|begin_of_text|> BOS, <|end_of_text|> EOS, ...).
func LoadTiktoken(path string) (Spec, error) {
	data, err := readTokenizerFile(path)
	if err != nil {
		return Spec{}, err
	}
	spec, err := parseTiktokenRanks(data, path)
	if err != nil {
		return Spec{}, err
	}
	cfg, cfgPath, err := readSiblingConfig(path)
	switch {
	case err != nil:
		return Spec{}, err
	case cfg == nil:
		addLlama3Specials(&spec)
	default:
		if err := applyTokenizerConfig(&spec, cfg, cfgPath); err != nil {
			return Spec{}, err
		}
	}
	return spec, nil
}

// ParseTiktoken is LoadTiktoken on file contents already in memory, with
// Llama 3's special tokens; name is what errors call the input.
func ParseTiktoken(data []byte, name string) (Spec, error) {
	spec, err := parseTiktokenRanks(data, name)
	if err != nil {
		return Spec{}, err
	}
	addLlama3Specials(&spec)
	return spec, nil
}

// parseTiktokenRanks reads the rank lines. Ranks must be unique and so must
// tokens; a few gaps are tolerated (left as unused empty tokens), not ranks
// far beyond the number of lines.
func parseTiktokenRanks(data []byte, name string) (Spec, error) {
	byRank := map[int]string{}
	seen := map[string]int{}
	maxRank := -1
	for ln := range textLines(data) {
		line := ln.Text
		if line == "" {
			continue
		}
		bad := func(format string, args ...any) (Spec, error) {
			return Spec{}, lineError(name, ln, format, args...)
		}
		b64, rankText, ok := strings.Cut(line, " ")
		if !ok {
			return bad("not a \"base64-token rank\" line")
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) == 0 {
			return bad("token %q is not non-empty base64", b64)
		}
		rank, err := strconv.Atoi(rankText)
		if err != nil || rank < 0 || rank >= 1<<31-1 {
			return bad("rank %q is not a valid rank", rankText)
		}
		if prev, dup := byRank[rank]; dup {
			return bad("rank %d is given to both %q and %q", rank, prev, raw)
		}
		if prev, dup := seen[string(raw)]; dup {
			return bad("token %q has ranks %d and %d", raw, prev, rank)
		}
		byRank[rank] = string(raw)
		seen[string(raw)] = rank
		maxRank = max(maxRank, rank)
	}
	if len(byRank) == 0 {
		return Spec{}, omexerr.Modelf("model.bad_tokenizer", "no token ranks").WithFile(name).WithOffset(0)
	}
	if maxRank >= 2*len(byRank)+1024 {
		return Spec{}, omexerr.Modelf("model.bad_tokenizer", "ranks go up to %d for only %d tokens", maxRank, len(byRank)).
			WithFile(name).WithOffset(0)
	}
	spec := Spec{
		Kind:         BPE,
		Tokens:       make([]string, maxRank+1),
		Types:        make([]int32, maxRank+1),
		Pre:          "llama3",
		IgnoreMerges: true, // tiktoken looks a whole piece up before merging
		BOS:          -1, EOS: -1, UNK: -1, PAD: -1,
	}
	for i := range spec.Types {
		spec.Types[i] = TypeUnused
	}
	for rank, raw := range byRank {
		spec.Tokens[rank] = byteLevelEncode(raw)
		spec.Types[rank] = TypeNormal
	}
	return spec, nil
}

// llama3Specials returns the names of Llama 3's 256 special tokens, in id
// order, as Meta's reference tokenizer defines them.
func llama3Specials() []string {
	names := []string{
		"<|begin_of_text|>", "<|end_of_text|>",
		"<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
		"<|reserved_special_token_2|>", "<|reserved_special_token_3|>",
		"<|start_header_id|>", "<|end_header_id|>",
		"<|reserved_special_token_4|>", "<|eot_id|>",
	}
	for i := 5; i < 256-5; i++ {
		names = append(names, fmt.Sprintf("<|reserved_special_token_%d|>", i))
	}
	return names
}

// addLlama3Specials appends Llama 3's special tokens as control tokens.
func addLlama3Specials(spec *Spec) {
	for _, s := range llama3Specials() {
		spec.Tokens = append(spec.Tokens, s)
		spec.Types = append(spec.Types, TypeControl)
	}
	setBOSEOS(spec, "<|begin_of_text|>", "<|end_of_text|>")
}

// setBOSEOS points BOS and EOS at the tokens with those texts, when they
// exist, and adds BOS on encode as Llama 3 does.
func setBOSEOS(spec *Spec, bos, eos string) {
	for id, tok := range spec.Tokens {
		if spec.Types[id] != TypeControl {
			continue
		}
		if tok == bos {
			spec.BOS = id
		}
		if tok == eos {
			spec.EOS = id
		}
	}
	spec.AddBOS = spec.BOS >= 0
}

// tokenizerConfig is the part of a Hugging Face tokenizer_config.json used
// here.
type tokenizerConfig struct {
	AddedTokens map[string]struct {
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens_decoder"`
	BOS json.RawMessage `json:"bos_token"`
	EOS json.RawMessage `json:"eos_token"`
}

// applyTokenizerConfig adds the config's added tokens after the ranks:
// special ones as control tokens, others as user-defined. Ids inside the
// rank range are left alone (they name tokens the ranks already hold).
func applyTokenizerConfig(spec *Spec, data []byte, name string) error {
	var cfg tokenizerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		var off int64
		if se, ok := err.(*json.SyntaxError); ok {
			off = se.Offset
		}
		return omexerr.Modelf("model.bad_tokenizer", "bad tokenizer config").WithFile(name).WithOffset(off).Wrap(err)
	}
	base := len(spec.Tokens)
	top := base - 1
	for key := range cfg.AddedTokens {
		id, err := strconv.Atoi(key)
		if err != nil || id < 0 {
			return omexerr.Modelf("model.bad_tokenizer", "added token id %q is not a valid id", key).WithFile(name)
		}
		top = max(top, id)
	}
	if top >= base+len(cfg.AddedTokens)+1024 {
		return omexerr.Modelf("model.bad_tokenizer", "added token ids go up to %d past %d tokens", top, base).WithFile(name)
	}
	for id := base; id <= top; id++ {
		spec.Tokens = append(spec.Tokens, "")
		spec.Types = append(spec.Types, TypeUnused)
	}
	for key, at := range cfg.AddedTokens {
		id, _ := strconv.Atoi(key)
		if id < base {
			continue
		}
		if at.Content == "" {
			return omexerr.Modelf("model.bad_tokenizer", "added token %d has no content", id).WithFile(name)
		}
		spec.Tokens[id] = at.Content
		spec.Types[id] = TypeUserDefined
		if at.Special {
			spec.Types[id] = TypeControl
		}
	}
	bos, eos := configTokenText(cfg.BOS), configTokenText(cfg.EOS)
	if bos == "" {
		bos = "<|begin_of_text|>"
	}
	if eos == "" {
		eos = "<|end_of_text|>"
	}
	setBOSEOS(spec, bos, eos)
	return nil
}

// configTokenText reads a bos_token/eos_token entry: a string, or an object
// with a "content" string.
func configTokenText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

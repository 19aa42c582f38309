package format

import (
	"github.com/omex-dev/omex/omexerr"
)

// Tokenizer algorithms, spelled as runtime/tokenizer.Kind spells them.
const (
	TokenizerSPM       = "spm"
	TokenizerBPE       = "bpe"
	TokenizerWordPiece = "wordpiece"
)

// MaxVocab is the largest vocabulary a package may hold.
const MaxVocab = 1 << 24

// Tokenizer is the package's tokenizer: tokenizer/tokenizer.json (Config)
// and the files beside it. Vocab is vocab.txt; Merges (BPE, "left right" in
// rank order) is merges.txt; Scores (SPM) is scores.bin; Types (token type
// per id, GGUF numbering) is token_types.bin. Optional slices are nil when
// the file is absent.
type Tokenizer struct {
	Config TokenizerConfig
	Vocab  []string
	Merges []string
	Scores []float32
	Types  []int32
}

// TokenizerConfig is tokenizer/tokenizer.json.
type TokenizerConfig struct {
	TokenizerType  string         `json:"tokenizer_type"` // spm, bpe or wordpiece
	VocabSize      int            `json:"vocab_size"`
	SpecialTokens  SpecialTokens  `json:"special_tokens"`
	AddBOS         bool           `json:"add_bos"`
	AddEOS         bool           `json:"add_eos"`
	AddSpacePrefix bool           `json:"add_space_prefix"`
	ByteFallback   bool           `json:"byte_fallback"`
	Normalization  Normalization  `json:"normalization"`
	PreTokenizer   PreTokenizer   `json:"pre_tokenizer"`
	TruncationSide string         `json:"truncation_side"` // "left" or "right"
	PaddingSide    string         `json:"padding_side"`    // "left" or "right"
	Files          TokenizerFiles `json:"files"`
}

// SpecialTokens names the special tokens by role (null when the model has
// none) plus any others (chat markers and the like) in Additional.
type SpecialTokens struct {
	BOS        *SpecialToken  `json:"bos"`
	EOS        *SpecialToken  `json:"eos"`
	UNK        *SpecialToken  `json:"unk"`
	PAD        *SpecialToken  `json:"pad"`
	Additional []SpecialToken `json:"additional"`
}

// SpecialToken is a token id and its text, which must equal vocab[id].
type SpecialToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
}

// TokenID is t's id, or -1 when t is nil (the convention of tokenizer.Spec).
func TokenID(t *SpecialToken) int {
	if t == nil {
		return -1
	}
	return t.ID
}

// Normalization lists the text normalizations applied before tokenizing.
// UnicodeForm is "", "NFC", "NFD", "NFKC" or "NFKD".
type Normalization struct {
	Lowercase    bool   `json:"lowercase"`
	StripAccents bool   `json:"strip_accents"`
	UnicodeForm  string `json:"unicode_form,omitempty"`
}

// PreTokenizer names the pre-tokenizer of a BPE tokenizer (GGUF's
// tokenizer.ggml.pre spelling) and, when known, its split regexes, which
// win over the name.
type PreTokenizer struct {
	Name    string   `json:"name"`
	Regexes []string `json:"regexes"`
	// IgnoreMerges takes a pre-tokenized word whole when it is in the
	// vocabulary, before merging (Hugging Face BPE's ignore_merges).
	IgnoreMerges bool `json:"ignore_merges,omitempty"`
}

// TokenizerFiles names the files beside tokenizer.json (names inside
// tokenizer/); an empty name means the file is absent. Only the canonical
// names are allowed.
type TokenizerFiles struct {
	Vocab      string `json:"vocab"`
	Merges     string `json:"merges,omitempty"`
	Scores     string `json:"scores,omitempty"`
	TokenTypes string `json:"token_types,omitempty"`
}

// Canonical names of the tokenizer files inside tokenizer/.
const (
	vocabName      = "vocab.txt"
	mergesName     = "merges.txt"
	scoresName     = "scores.bin"
	tokenTypesName = "token_types.bin"
)

// fillFiles sets Config.VocabSize and Config.Files from the slices present.
func (t *Tokenizer) fillFiles() {
	if t.Config.VocabSize == 0 {
		t.Config.VocabSize = len(t.Vocab)
	}
	f := TokenizerFiles{Vocab: vocabName}
	if t.Merges != nil {
		f.Merges = mergesName
	}
	if t.Scores != nil {
		f.Scores = scoresName
	}
	if t.Types != nil {
		f.TokenTypes = tokenTypesName
	}
	t.Config.Files = f
	if t.Config.PreTokenizer.Regexes == nil {
		t.Config.PreTokenizer.Regexes = []string{}
	}
	if t.Config.SpecialTokens.Additional == nil {
		t.Config.SpecialTokens.Additional = []SpecialToken{}
	}
}

// validateConfig checks tokenizer.json on its own, before the files it
// names are read; file is the name errors report.
func (c *TokenizerConfig) validateConfig(file string) *omexerr.Error {
	bad := func(format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(file)
	}
	switch c.TokenizerType {
	case TokenizerSPM, TokenizerBPE, TokenizerWordPiece:
	default:
		return bad("unknown tokenizer_type %q", c.TokenizerType)
	}
	if c.VocabSize < 1 || c.VocabSize > MaxVocab {
		return bad("vocab_size %d out of range 1..%d", c.VocabSize, MaxVocab)
	}
	for _, side := range []string{c.TruncationSide, c.PaddingSide} {
		if side != "left" && side != "right" {
			return bad("truncation_side and padding_side must be \"left\" or \"right\", not %q", side)
		}
	}
	switch c.Normalization.UnicodeForm {
	case "", "NFC", "NFD", "NFKC", "NFKD":
	default:
		return bad("unknown unicode_form %q", c.Normalization.UnicodeForm)
	}
	f := c.Files
	if f.Vocab != vocabName || (f.Merges != "" && f.Merges != mergesName) ||
		(f.Scores != "" && f.Scores != scoresName) || (f.TokenTypes != "" && f.TokenTypes != tokenTypesName) {
		return bad("files %+v: names must be the canonical %s, %s, %s, %s", f, vocabName, mergesName, scoresName, tokenTypesName)
	}
	if c.TokenizerType == TokenizerSPM && f.Scores == "" && f.Merges == "" {
		// SentencePiece models rank merges by score; HF tokenizer.json
		// ones of the same style by merge order.
		return bad("an spm tokenizer needs scores or merges")
	}
	if c.TokenizerType == TokenizerBPE && f.Merges == "" {
		return bad("a bpe tokenizer needs merges")
	}
	return nil
}

// validate checks the whole tokenizer: the config, the lengths of the
// per-token arrays and the special tokens against the vocabulary.
func (t *Tokenizer) validate() *omexerr.Error {
	if err := t.Config.validateConfig(TokenizerFile); err != nil {
		return err
	}
	c := &t.Config
	bad := func(file, format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(file)
	}
	if len(t.Vocab) != c.VocabSize {
		return bad(VocabFile, "%d tokens but vocab_size is %d", len(t.Vocab), c.VocabSize)
	}
	if (c.Files.Merges != "") != (t.Merges != nil) {
		return bad(MergesFile, "merges file listed %v but merges present %v", c.Files.Merges != "", t.Merges != nil)
	}
	if (c.Files.Scores != "") != (t.Scores != nil) || (t.Scores != nil && len(t.Scores) != c.VocabSize) {
		return bad(ScoresFile, "%d scores for vocab_size %d", len(t.Scores), c.VocabSize)
	}
	if (c.Files.TokenTypes != "") != (t.Types != nil) || (t.Types != nil && len(t.Types) != c.VocabSize) {
		return bad(TokenTypesFile, "%d token types for vocab_size %d", len(t.Types), c.VocabSize)
	}
	check := func(role string, s *SpecialToken) *omexerr.Error {
		if s == nil {
			return nil
		}
		if s.ID < 0 || s.ID >= c.VocabSize {
			return bad(TokenizerFile, "%s token id %d out of range 0..%d", role, s.ID, c.VocabSize-1)
		}
		if t.Vocab[s.ID] != s.Content {
			return bad(TokenizerFile, "%s token %d is %q but vocab has %q", role, s.ID, s.Content, t.Vocab[s.ID])
		}
		return nil
	}
	st := &c.SpecialTokens
	for _, r := range []struct {
		role string
		tok  *SpecialToken
	}{{"bos", st.BOS}, {"eos", st.EOS}, {"unk", st.UNK}, {"pad", st.PAD}} {
		if err := check(r.role, r.tok); err != nil {
			return err
		}
	}
	for i := range st.Additional {
		if err := check("additional", &st.Additional[i]); err != nil {
			return err
		}
	}
	return nil
}

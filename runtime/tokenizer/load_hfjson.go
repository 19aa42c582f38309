package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// readSiblingConfig reads the tokenizer_config.json beside a tokenizer
// file: nil data when there is none, an error when it exists but cannot be
// read.
func readSiblingConfig(path string) (data []byte, cfgPath string, err error) {
	cfgPath = filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	data, err = os.ReadFile(cfgPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, cfgPath, nil
	case err != nil:
		return nil, cfgPath, omexerr.Inputf("input.open", "cannot read the tokenizer config").WithFile(cfgPath).Wrap(err)
	}
	return data, cfgPath, nil
}

// LoadHFJSON reads a Hugging Face tokenizer.json. When a tokenizer_config.json
// sits beside it, its bos_token, eos_token, add_bos_token and add_eos_token
// are applied too, since that is where transformers keeps them.
func LoadHFJSON(path string) (Spec, error) {
	data, err := readTokenizerFile(path)
	if err != nil {
		return Spec{}, err
	}
	spec, err := ParseHFJSON(data, path)
	if err != nil {
		return Spec{}, err
	}
	cfg, cfgPath, err := readSiblingConfig(path)
	if err != nil || cfg == nil {
		return spec, err
	}
	if err := applyHFTokenizerConfig(&spec, cfg, cfgPath); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// hfJSON is the part of tokenizer.json this loader reads. The pipeline
// stages stay raw: their shape depends on their "type".
type hfJSON struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string          `json:"type"`
		Vocab                   json.RawMessage `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		UnkToken                *string         `json:"unk_token"`
		ByteFallback            bool            `json:"byte_fallback"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
		IgnoreMerges            bool            `json:"ignore_merges"`
	} `json:"model"`
}

// hfStage is one normalizer, pre-tokenizer, post-processor or decoder;
// Sequence stages nest others under one of the list fields.
type hfStage struct {
	Type          string          `json:"type"`
	Normalizers   []hfStage       `json:"normalizers"`
	PreTokenizers []hfStage       `json:"pretokenizers"`
	Processors    []hfStage       `json:"processors"`
	Decoders      []hfStage       `json:"decoders"`
	Prepend       string          `json:"prepend"`
	Content       string          `json:"content"`
	Replacement   string          `json:"replacement"`
	AddPrefix     *bool           `json:"add_prefix_space"`
	PrependScheme string          `json:"prepend_scheme"`
	UseRegex      *bool           `json:"use_regex"`
	Lowercase     *bool           `json:"lowercase"`
	StripAccents  *bool           `json:"strip_accents"`
	Pattern       json.RawMessage `json:"pattern"`
	Single        []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct{} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

// flatten lists a stage and, for a Sequence, every stage inside it, in order.
func (s *hfStage) flatten() []*hfStage {
	if s == nil {
		return nil
	}
	out := []*hfStage{s}
	for _, list := range [][]hfStage{s.Normalizers, s.PreTokenizers, s.Processors, s.Decoders} {
		for i := range list {
			out = append(out, list[i].flatten()...)
		}
	}
	return out
}

// gpt2Regex is the split pattern of HF's ByteLevel pre-tokenizer when its
// use_regex is on (the default).
const gpt2Regex = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// ParseHFJSON parses the bytes of a Hugging Face tokenizer.json: a BPE model
// of SentencePiece style (byte fallback, or "▁" for spaces from a Metaspace
// or Prepend/Replace normalizer) becomes an SPM spec ranked by its merges; a
// BPE model with a ByteLevel pre-tokenizer or decoder a BPE spec; a
// WordPiece model a WordPiece spec. name is the file name used in errors.
func ParseHFJSON(data []byte, name string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(name)
	}
	var j hfJSON
	if err := json.Unmarshal(data, &j); err != nil {
		e := omexerr.Modelf("model.bad_tokenizer", "tokenizer.json is not valid: %v", err).WithFile(name)
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			e = e.WithOffset(syn.Offset)
		}
		return Spec{}, e
	}
	normalizer, err := parseStage(j.Normalizer)
	if err != nil {
		return bad("normalizer: %v", err)
	}
	pre, err := parseStage(j.PreTokenizer)
	if err != nil {
		return bad("pre_tokenizer: %v", err)
	}
	post, err := parseStage(j.PostProcessor)
	if err != nil {
		return bad("post_processor: %v", err)
	}
	decoder, err := parseStage(j.Decoder)
	if err != nil {
		return bad("decoder: %v", err)
	}

	modelType := j.Model.Type
	if modelType == "" {
		// Old files leave the type out; its fields tell it.
		switch {
		case len(j.Model.Merges) > 0:
			modelType = "BPE"
		case j.Model.MaxInputCharsPerWord != nil:
			modelType = "WordPiece"
		}
	}
	spec := Spec{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	switch modelType {
	case "BPE":
		if isSPMStyle(j.Model.ByteFallback, normalizer, pre, decoder) {
			spec.Kind = SPM
			spec.ByteFallback = j.Model.ByteFallback
			spec.AddSpacePrefix = spmAddsPrefix(normalizer, pre)
		} else {
			spec.Kind = BPE
			spec.IgnoreMerges = j.Model.IgnoreMerges
			spec.PreRegex, spec.AddSpacePrefix = byteLevelSplits(pre)
			if spec.PreRegex == nil {
				spec.Pre = "gpt2"
			}
		}
		merges, err := parseHFMerges(j.Model.Merges)
		if err != nil {
			return bad("model.merges: %v", err)
		}
		spec.Merges = merges
	case "WordPiece":
		spec.Kind = WordPiece
		spec.Lowercase, spec.StripAccents = bertNormalizer(normalizer)
	default:
		return Spec{}, omexerr.Modelf("model.unsupported_tokenizer",
			"tokenizer.json model type %q is not supported (BPE and WordPiece are)", modelType).WithFile(name)
	}

	if err := fillHFVocab(&spec, &j); err != nil {
		return bad("%v", err)
	}
	if j.Model.UnkToken != nil {
		spec.UNK = lookupToken(&spec, *j.Model.UnkToken)
		if spec.UNK >= 0 {
			spec.Types[spec.UNK] = TypeUnknown
		}
	}
	specialsFromPostProcessor(&spec, post)
	if spec.BOS < 0 {
		spec.BOS = firstToken(&spec, "<s>", "<|endoftext|>", "[CLS]")
	}
	if spec.EOS < 0 {
		spec.EOS = firstToken(&spec, "</s>", "<|endoftext|>", "[SEP]")
	}
	return spec, nil
}

func parseStage(raw json.RawMessage) (*hfStage, error) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var s hfStage
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// isSPMStyle tells a SentencePiece-converted BPE (Llama, Mistral, Gemma)
// from a byte-level one: byte fallback, or "▁" standing for spaces.
func isSPMStyle(byteFallback bool, normalizer, pre, decoder *hfStage) bool {
	if byteFallback {
		return true
	}
	for _, s := range append(append(normalizer.flatten(), pre.flatten()...), decoder.flatten()...) {
		switch s.Type {
		case "Metaspace":
			return true
		case "Prepend":
			if s.Prepend == spaceMark {
				return true
			}
		case "Replace":
			if s.Content == spaceMark {
				return true
			}
		}
	}
	return false
}

// spmAddsPrefix reads SentencePiece's add_dummy_prefix back from the
// pipeline: a Prepend("▁") normalizer, or a Metaspace pre-tokenizer that
// prepends (add_prefix_space, or prepend_scheme "always"/"first").
func spmAddsPrefix(normalizer, pre *hfStage) bool {
	for _, s := range normalizer.flatten() {
		if s.Type == "Prepend" && s.Prepend == spaceMark {
			return true
		}
	}
	for _, s := range pre.flatten() {
		if s.Type != "Metaspace" {
			continue
		}
		switch s.PrependScheme {
		case "always", "first":
			return true
		case "never":
			return false
		}
		return s.AddPrefix == nil || *s.AddPrefix
	}
	return false
}

// byteLevelSplits collects the regexes of Split pre-tokenizers, in order,
// adding ByteLevel's own GPT-2 regex where it has use_regex on and other
// splits come first (with no Split at all the caller names "gpt2" instead).
// It also returns ByteLevel's add_prefix_space.
func byteLevelSplits(pre *hfStage) (regexes []string, addPrefix bool) {
	byteLevelRegex := false
	for _, s := range pre.flatten() {
		switch s.Type {
		case "Split":
			var p struct {
				Regex  *string `json:"Regex"`
				String *string `json:"String"`
			}
			if json.Unmarshal(s.Pattern, &p) != nil {
				continue
			}
			switch {
			case p.Regex != nil:
				regexes = append(regexes, *p.Regex)
			case p.String != nil:
				regexes = append(regexes, quoteRegex(*p.String))
			}
		case "ByteLevel":
			byteLevelRegex = s.UseRegex == nil || *s.UseRegex
			addPrefix = s.AddPrefix != nil && *s.AddPrefix
		}
	}
	if regexes != nil && byteLevelRegex {
		regexes = append(regexes, gpt2Regex)
	}
	return regexes, addPrefix
}

// quoteRegex escapes a literal split string for use as a regex.
func quoteRegex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bertNormalizer reads lowercase and strip_accents from a BertNormalizer
// (strip_accents unset follows lowercase, as in HF) or from standalone
// Lowercase / StripAccents normalizers.
func bertNormalizer(normalizer *hfStage) (lower, strip bool) {
	for _, s := range normalizer.flatten() {
		switch s.Type {
		case "BertNormalizer":
			lower = s.Lowercase == nil || *s.Lowercase
			strip = lower
			if s.StripAccents != nil {
				strip = *s.StripAccents
			}
		case "Lowercase":
			lower = true
		case "StripAccents":
			strip = true
		}
	}
	return lower, strip
}

// parseHFMerges accepts both merge forms: "a b" strings and ["a", "b"] pairs.
func parseHFMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	merges := make([]string, len(items))
	for i, item := range items {
		var s string
		if json.Unmarshal(item, &s) == nil {
			merges[i] = s
			continue
		}
		var pair []string
		if err := json.Unmarshal(item, &pair); err != nil || len(pair) != 2 {
			return nil, errors.New("merge " + string(item) + " is neither \"a b\" nor [a, b]")
		}
		merges[i] = pair[0] + " " + pair[1]
	}
	return merges, nil
}

// fillHFVocab builds Tokens and Types from model.vocab and added_tokens.
func fillHFVocab(spec *Spec, j *hfJSON) error {
	var vocab map[string]int
	if err := json.Unmarshal(j.Model.Vocab, &vocab); err != nil || vocab == nil {
		return errors.New("model.vocab is missing or not a map of piece to id")
	}
	count, maxID := len(vocab)+len(j.AddedTokens), -1
	for piece, id := range vocab {
		if id < 0 {
			return errors.New("model.vocab gives " + piece + " a negative id")
		}
		maxID = max(maxID, id)
	}
	for _, a := range j.AddedTokens {
		if a.ID < 0 {
			return errors.New("added token " + a.Content + " has a negative id")
		}
		maxID = max(maxID, a.ID)
	}
	// Ids are dense in real files; a huge one must not make us allocate.
	if maxID >= 2*count+1024 {
		return errors.New("token ids are far sparser than the vocabulary: corrupt ids")
	}
	n := maxID + 1
	spec.Tokens = make([]string, n)
	spec.Types = make([]int32, n)
	seen := make([]bool, n)
	// Sorting the pieces makes a duplicate id resolve the same way each run.
	pieces := make([]string, 0, len(vocab))
	for p := range vocab {
		pieces = append(pieces, p)
	}
	sort.Strings(pieces)
	for _, p := range pieces {
		id := vocab[p]
		if seen[id] {
			return errors.New("model.vocab gives two pieces the same id")
		}
		seen[id] = true
		spec.Tokens[id] = p
		spec.Types[id] = TypeNormal
		if _, isByte := parseByteToken(p); isByte && spec.Kind == SPM {
			spec.Types[id] = TypeByte
		}
	}
	for _, a := range j.AddedTokens {
		seen[a.ID] = true
		spec.Tokens[a.ID] = a.Content
		spec.Types[a.ID] = TypeUserDefined
		if a.Special {
			spec.Types[a.ID] = TypeControl
		}
	}
	for id := range seen {
		if !seen[id] {
			spec.Types[id] = TypeUnused // a hole in the ids: no text, never produced
		}
	}
	return nil
}

// specialsFromPostProcessor takes BOS and EOS from a TemplateProcessing
// post-processor: the special token before the sequence is added as BOS,
// the one after it as EOS.
func specialsFromPostProcessor(spec *Spec, post *hfStage) {
	for _, s := range post.flatten() {
		if s.Type != "TemplateProcessing" {
			continue
		}
		seenSeq := false
		for _, item := range s.Single {
			if item.Sequence != nil {
				seenSeq = true
				continue
			}
			if item.SpecialToken == nil {
				continue
			}
			id := -1
			if st, ok := s.SpecialTokens[item.SpecialToken.ID]; ok && len(st.IDs) > 0 {
				id = st.IDs[0]
			} else {
				id = lookupToken(spec, item.SpecialToken.ID)
			}
			if id < 0 || id >= len(spec.Tokens) {
				continue
			}
			if !seenSeq && !spec.AddBOS {
				spec.BOS, spec.AddBOS = id, true
			} else if seenSeq && !spec.AddEOS {
				spec.EOS, spec.AddEOS = id, true
			}
		}
	}
}

// lookupToken returns the id of a token text, -1 when absent.
func lookupToken(spec *Spec, text string) int {
	for id, t := range spec.Tokens {
		if t == text && spec.Types[id] != TypeUnused {
			return id
		}
	}
	return -1
}

func firstToken(spec *Spec, texts ...string) int {
	for _, text := range texts {
		if id := lookupToken(spec, text); id >= 0 {
			return id
		}
	}
	return -1
}

// applyHFTokenizerConfig applies tokenizer_config.json's BOS/EOS settings.
// Tokens are given as a string or as {"content": ...}.
func applyHFTokenizerConfig(spec *Spec, data []byte, name string) error {
	var cfg struct {
		BOS    json.RawMessage `json:"bos_token"`
		EOS    json.RawMessage `json:"eos_token"`
		AddBOS *bool           `json:"add_bos_token"`
		AddEOS *bool           `json:"add_eos_token"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return omexerr.Modelf("model.bad_tokenizer", "tokenizer_config.json is not valid: %v", err).WithFile(name)
	}
	if id := configToken(spec, cfg.BOS); id >= 0 {
		spec.BOS = id
	}
	if id := configToken(spec, cfg.EOS); id >= 0 {
		spec.EOS = id
	}
	if cfg.AddBOS != nil {
		spec.AddBOS = *cfg.AddBOS && spec.BOS >= 0
	}
	if cfg.AddEOS != nil {
		spec.AddEOS = *cfg.AddEOS && spec.EOS >= 0
	}
	return nil
}

func configToken(spec *Spec, raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var obj struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(raw, &obj) != nil || obj.Content == "" {
			return -1
		}
		s = obj.Content
	}
	return lookupToken(spec, s)
}

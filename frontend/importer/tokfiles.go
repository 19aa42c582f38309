package importer

import (
	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// packageTokenizer converts a tokenizer spec into the package's tokenizer
// files.
func packageTokenizer(s tokenizer.Spec) format.Tokenizer {
	special := func(id int) *format.SpecialToken {
		if id < 0 || id >= len(s.Tokens) {
			return nil
		}
		return &format.SpecialToken{ID: id, Content: s.Tokens[id]}
	}
	st := format.SpecialTokens{BOS: special(s.BOS), EOS: special(s.EOS), UNK: special(s.UNK), PAD: special(s.PAD)}
	for id, typ := range s.Types {
		if typ != tokenizer.TypeControl && typ != tokenizer.TypeUserDefined {
			continue
		}
		if id == s.BOS || id == s.EOS || id == s.UNK || id == s.PAD {
			continue
		}
		st.Additional = append(st.Additional, format.SpecialToken{ID: id, Content: s.Tokens[id]})
	}
	return format.Tokenizer{
		Config: format.TokenizerConfig{
			TokenizerType:  string(s.Kind),
			VocabSize:      len(s.Tokens),
			SpecialTokens:  st,
			AddBOS:         s.AddBOS,
			AddEOS:         s.AddEOS,
			AddSpacePrefix: s.AddSpacePrefix,
			ByteFallback:   s.ByteFallback,
			Normalization:  format.Normalization{Lowercase: s.Lowercase, StripAccents: s.StripAccents},
			PreTokenizer:   format.PreTokenizer{Name: s.Pre, Regexes: s.PreRegex, IgnoreMerges: s.IgnoreMerges},
			// A causal model keeps the end of an over-long input.
			TruncationSide: "left",
			PaddingSide:    "left",
		},
		Vocab:  s.Tokens,
		Merges: s.Merges,
		Scores: s.Scores,
		Types:  s.Types,
	}
}

// specFromPackage converts a package's tokenizer files back into a spec.
func specFromPackage(t *format.Tokenizer) tokenizer.Spec {
	c := &t.Config
	return tokenizer.Spec{
		Kind:           tokenizer.Kind(c.TokenizerType),
		Tokens:         t.Vocab,
		Scores:         t.Scores,
		Types:          t.Types,
		Merges:         t.Merges,
		Pre:            c.PreTokenizer.Name,
		PreRegex:       c.PreTokenizer.Regexes,
		IgnoreMerges:   c.PreTokenizer.IgnoreMerges,
		BOS:            format.TokenID(c.SpecialTokens.BOS),
		EOS:            format.TokenID(c.SpecialTokens.EOS),
		UNK:            format.TokenID(c.SpecialTokens.UNK),
		PAD:            format.TokenID(c.SpecialTokens.PAD),
		AddBOS:         c.AddBOS,
		AddEOS:         c.AddEOS,
		AddSpacePrefix: c.AddSpacePrefix,
		ByteFallback:   c.ByteFallback,
		Lowercase:      c.Normalization.Lowercase,
		StripAccents:   c.Normalization.StripAccents,
	}
}

package tokenizer

import (
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

func TestSentencePieceModelMatchesLlama2cExport(t *testing.T) {
	model, err := LoadSentencePieceModel(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := LoadLlama2cBin(testfiles.SharedFile(t, "tokenizers/llama2-tokenizer.bin"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(model.Tokens) != 32000 || len(bin.Tokens) != 32000 {
		t.Fatalf("sizes %d and %d, want 32000", len(model.Tokens), len(bin.Tokens))
	}
	for id := range model.Tokens {
		if model.Tokens[id] != bin.Tokens[id] || model.Types[id] != bin.Types[id] || model.Scores[id] != bin.Scores[id] {
			t.Fatalf("token %d: model %q type %d score %g, bin %q type %d score %g", id,
				model.Tokens[id], model.Types[id], model.Scores[id], bin.Tokens[id], bin.Types[id], bin.Scores[id])
		}
	}
	if model.BOS != 1 || model.EOS != 2 || model.UNK != 0 || model.PAD != -1 ||
		!model.AddBOS || model.AddEOS || !model.AddSpacePrefix || !model.ByteFallback {
		t.Fatalf("model settings: %+v", []any{model.BOS, model.EOS, model.UNK, model.PAD,
			model.AddBOS, model.AddEOS, model.AddSpacePrefix, model.ByteFallback})
	}
}

func TestSentencePieceModelRejectsTiktoken(t *testing.T) {
	_, err := LoadSentencePieceModel(testfiles.SharedFile(t, "tokenizers/llama3/tokenizer.model"))
	if err == nil || omexerr.CategoryOf(err) != omexerr.Model || !strings.Contains(err.Error(), "tiktoken") {
		t.Fatalf("want a ModelError naming tiktoken, got %v", err)
	}
}

func TestSentencePieceModelBadInput(t *testing.T) {
	cases := map[string][]byte{
		"empty":          {},
		"truncated len":  {0x0a, 0x80},
		"len past end":   {0x0a, 0x10, 0x0a},
		"group wire":     {0x0b},
		"field zero":     {0x00},
		"no trainer":     {0x0a, 0x03, 0x0a, 0x01, 'a'},
		"bad piece type": {0x0a, 0x02, 0x18, 0x09},
	}
	for name, data := range cases {
		_, err := ParseSentencePieceModel(data, "x.model")
		if err == nil || omexerr.CategoryOf(err) != omexerr.Model {
			t.Errorf("%s: want a ModelError, got %v", name, err)
		}
	}
}

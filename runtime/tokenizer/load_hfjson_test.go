package tokenizer

import (
	"reflect"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

func TestHFJSONTinyStoriesGolden(t *testing.T) {
	spec, err := LoadHFJSON(testfiles.SharedFile(t, "models/tinystories-656k/tokenizer.json"))
	tok := mustTokenizer(t, spec, err)
	if spec.Kind != SPM || !spec.AddSpacePrefix || !spec.ByteFallback || len(spec.Merges) == 0 {
		t.Fatalf("spec: kind %s prefix %v fallback %v merges %d", spec.Kind, spec.AddSpacePrefix, spec.ByteFallback, len(spec.Merges))
	}
	if spec.BOS != 1 || spec.EOS != 2 || spec.UNK != 0 || !spec.AddBOS || spec.AddEOS {
		t.Fatalf("specials: bos %d eos %d unk %d addBOS %v addEOS %v", spec.BOS, spec.EOS, spec.UNK, spec.AddBOS, spec.AddEOS)
	}
	// The prompt ids of the pyref golden (HF tokenizers on this file).
	got := tok.Encode("Once upon a time", EncodeOptions{AddBOS: spec.AddBOS})
	if want := []int{1, 80, 147, 201, 282, 57}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "Once upon a time" {
		t.Fatalf("Decode = %q", s)
	}
}

func TestVocabLlamaSPMFromCodeLlamaJSON(t *testing.T) {
	spec, err := loadSharedHFJSON(t, "tokenizers/hf-json/codellama-tokenizer.json")
	tok := mustTokenizer(t, spec, err)
	if spec.Kind != SPM || len(spec.Tokens) != 32016 || spec.BOS != 1 || spec.EOS != 2 || !spec.AddBOS {
		t.Fatalf("spec: kind %s tokens %d bos %d eos %d addBOS %v", spec.Kind, len(spec.Tokens), spec.BOS, spec.EOS, spec.AddBOS)
	}
	runVocabCases(t, tok, "ggml-vocab-llama-spm.gguf", true)
}

// loadSharedHFJSON loads a tokenizer.json from the shared test data.
func loadSharedHFJSON(t *testing.T, rel string) (Spec, error) {
	return LoadHFJSON(testfiles.SharedFile(t, rel))
}

func TestHFJSONGPT2(t *testing.T) {
	spec, err := loadSharedHFJSON(t, "tokenizers/gpt2/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != BPE || spec.Pre != "gpt2" || spec.PreRegex != nil || len(spec.Tokens) != 50257 || len(spec.Merges) != 50000 {
		t.Fatalf("spec: kind %s pre %q regex %v tokens %d merges %d", spec.Kind, spec.Pre, spec.PreRegex, len(spec.Tokens), len(spec.Merges))
	}
	if spec.Merges[0] != "Ġ t" || spec.BOS != 50256 || spec.EOS != 50256 || spec.AddBOS || spec.UNK != -1 {
		t.Fatalf("merge0 %q bos %d eos %d addBOS %v unk %d", spec.Merges[0], spec.BOS, spec.EOS, spec.AddBOS, spec.UNK)
	}
	if spec.Types[50256] != TypeControl || spec.Types[0] != TypeNormal {
		t.Fatalf("types: %d %d", spec.Types[50256], spec.Types[0])
	}
}

func TestHFJSONBert(t *testing.T) {
	spec, err := loadSharedHFJSON(t, "tokenizers/hf-json/bert-base-uncased.json")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != WordPiece || len(spec.Tokens) != 30522 || !spec.Lowercase || !spec.StripAccents {
		t.Fatalf("spec: kind %s tokens %d lower %v strip %v", spec.Kind, len(spec.Tokens), spec.Lowercase, spec.StripAccents)
	}
	if spec.UNK != 100 || spec.BOS != 101 || spec.EOS != 102 || !spec.AddBOS || !spec.AddEOS {
		t.Fatalf("specials: unk %d bos %d eos %d add %v %v", spec.UNK, spec.BOS, spec.EOS, spec.AddBOS, spec.AddEOS)
	}
}

func TestHFJSONForms(t *testing.T) {
	// Pair-form merges, a Split regex before ByteLevel, a sparse id.
	doc := `{"added_tokens":[{"id":5,"content":"<|x|>","special":false}],
	"pre_tokenizer":{"type":"Sequence","pretokenizers":[
		{"type":"Split","pattern":{"Regex":"\\d"},"behavior":"Isolated"},
		{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
	"decoder":{"type":"ByteLevel"},
	"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}}`
	spec, err := ParseHFJSON([]byte(doc), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != BPE || !reflect.DeepEqual(spec.PreRegex, []string{`\d`}) || spec.Pre != "" {
		t.Fatalf("kind %s regex %v pre %q", spec.Kind, spec.PreRegex, spec.Pre)
	}
	if !reflect.DeepEqual(spec.Merges, []string{"a b"}) || len(spec.Tokens) != 6 ||
		spec.Types[3] != TypeUnused || spec.Types[5] != TypeUserDefined {
		t.Fatalf("merges %v tokens %q types %v", spec.Merges, spec.Tokens, spec.Types)
	}
}

func TestHFJSONBadInput(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":     `{"model":`,
		"no vocab":     `{"model":{"type":"BPE"}}`,
		"negative id":  `{"model":{"type":"BPE","vocab":{"a":-1}}}`,
		"sparse id":    `{"model":{"type":"BPE","vocab":{"a":1000000000}}}`,
		"dup id":       `{"model":{"type":"BPE","vocab":{"a":0,"b":0}}}`,
		"bad merge":    `{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a"]]}}`,
		"unigram":      `{"model":{"type":"Unigram","vocab":[["a",0.0]]}}`,
		"added far id": `{"added_tokens":[{"id":99999999,"content":"x"}],"model":{"type":"BPE","vocab":{"a":0}}}`,
	} {
		_, err := ParseHFJSON([]byte(doc), "t.json")
		if err == nil || omexerr.CategoryOf(err) != omexerr.Model {
			t.Errorf("%s: want a ModelError, got %v", name, err)
		}
	}
}

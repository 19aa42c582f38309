package hf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

func TestTinyStoriesTokenizer(t *testing.T) {
	m, err := Open(filepath.Join(testfiles.Shared(t), "models", "tinystories-656k"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	spec, err := m.TokenizerSpec()
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Tokens) != 2048 || spec.BOS != 1 || spec.EOS != 2 || !spec.AddBOS || spec.AddEOS {
		t.Errorf("spec: %d tokens, bos %d eos %d, add bos %v eos %v", len(spec.Tokens), spec.BOS, spec.EOS, spec.AddBOS, spec.AddEOS)
	}
	if spec.Tokens[1] != "<|start_story|>" || spec.Tokens[2] != "<|end_story|>" {
		t.Errorf("special tokens %q %q", spec.Tokens[1], spec.Tokens[2])
	}
	if got := m.Tokenizer(); len(got.Tokens) != len(spec.Tokens) || got.Kind != spec.Kind {
		t.Error("Tokenizer and TokenizerSpec disagree")
	}
}

// tokDir is a synthetic model directory with TinyStories' tokenizer files
// and the given generation_config.json (none when empty).
func tokDir(t *testing.T, cfg map[string]any, genConfig string) string {
	t.Helper()
	src := filepath.Join(testfiles.Shared(t), "models", "tinystories-656k")
	dir := writeDir(t, cfg, checkpoint(cfg, "F32", false), nil)
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if genConfig != "" {
		if err := os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(genConfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSpecialIDs(t *testing.T) {
	cases := []struct {
		name     string
		bos, eos any // config.json's ids (nil: absent)
		gen      string
		wantBOS  int
		wantEOS  int
		wantCode string
	}{
		{"tokenizer only", nil, nil, "", 1, 2, ""},
		{"config ids", 5, []int{6, 7}, "", 5, 6, ""},
		{"generation wins", 5, 6, `{"bos_token_id": 8, "eos_token_id": 9}`, 8, 9, ""},
		{"generation without ids", 5, 6, `{"temperature": 0.7}`, 1, 2, ""},
		{"tokenizer's eos in list", nil, nil, `{"eos_token_id": [7, 2]}`, 1, 2, ""},
		{"eos list without it", nil, nil, `{"eos_token_id": [7, 9]}`, 1, 7, ""},
		{"id out of range", nil, nil, `{"bos_token_id": 5000}`, 0, 0, "model.bad_config"},
		{"config id out of range", -1, nil, "", 0, 0, "model.bad_config"},
		{"bad generation config", nil, nil, `{"eos_token_id": "x"}`, 0, 0, "model.bad_config"},
	}
	for _, tc := range cases {
		cfg := smallConfig()
		if tc.bos != nil {
			cfg["bos_token_id"] = tc.bos
		}
		if tc.eos != nil {
			cfg["eos_token_id"] = tc.eos
		}
		m, err := Open(tokDir(t, cfg, tc.gen))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		spec, err := m.TokenizerSpec()
		m.Close()
		if tc.wantCode != "" {
			if oe, ok := omexerr.As(err); !ok || oe.Code != tc.wantCode || oe.File == "" {
				t.Errorf("%s: got %v, want %s naming a file", tc.name, err, tc.wantCode)
			}
			continue
		}
		if err != nil || spec.BOS != tc.wantBOS || spec.EOS != tc.wantEOS {
			t.Errorf("%s: bos %d eos %d (%v), want %d %d", tc.name, spec.BOS, spec.EOS, err, tc.wantBOS, tc.wantEOS)
		}
	}
}

func TestMissingTokenizer(t *testing.T) {
	cfg := smallConfig()
	m, err := Open(writeDir(t, cfg, checkpoint(cfg, "F32", false), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.TokenizerSpec(); err == nil {
		t.Error("no tokenizer.json, yet no error")
	}
	if spec := m.Tokenizer(); len(spec.Tokens) != 0 || spec.Kind != tokenizer.Kind("") {
		t.Errorf("Tokenizer() without tokenizer.json gave %d tokens", len(spec.Tokens))
	}
}

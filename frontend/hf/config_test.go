package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
)

// parseMap parses a config given as a map.
func parseMap(t *testing.T, cfg map[string]any) (*hfConfig, error) {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return parseConfig(data, "config.json")
}

func TestConfigDefaults(t *testing.T) {
	cfg := smallConfig()
	for _, k := range []string{"num_key_value_heads", "rope_theta", "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings", "architectures"} {
		delete(cfg, k)
	}
	cfg["model_type"] = "mistral"
	cfg["head_dim"] = nil
	c, err := parseMap(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Config{Dim: 8, Hidden: 12, Layers: 2, Heads: 4, KVHeads: 4, HeadDim: 2, Vocab: 10, SeqLen: 131072,
		RopeTheta: 10000, RopeLayout: model.RopeHalfSplit, NormEps: 1e-6}
	if c.Config != want || c.Arch != "mistral" || c.HFArch != "MistralForCausalLM" {
		t.Errorf("got %+v (%s), want %+v", c.Config, c.HFArch, want)
	}
}

func TestConfigVariants(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(map[string]any)
		check func(*hfConfig) bool
	}{
		{"explicit head_dim", func(c map[string]any) { c["head_dim"] = 4 }, func(c *hfConfig) bool { return c.HeadDim == 4 }},
		{"default rope type", func(c map[string]any) { c["rope_scaling"] = map[string]any{"type": "default"} }, func(c *hfConfig) bool { return c.RopeTheta == 500000 }},
		{"rope_parameters", func(c map[string]any) {
			delete(c, "rope_theta")
			c["rope_parameters"] = map[string]any{"rope_type": "default", "rope_theta": 1e6}
		}, func(c *hfConfig) bool { return c.RopeTheta == 1e6 }},
		{"llama attention_bias", func(c map[string]any) { c["attention_bias"] = true }, func(c *hfConfig) bool { return c.QKVBias && c.OutputBias }},
		{"qwen2 bias", func(c map[string]any) { c["architectures"] = []string{"Qwen2ForCausalLM"} }, func(c *hfConfig) bool { return c.QKVBias && !c.OutputBias }},
		{"mistral window", func(c map[string]any) {
			c["architectures"] = []string{"MistralForCausalLM"}
			c["sliding_window"] = 16
		}, func(c *hfConfig) bool {
			return c.SeqLen == 16 && strings.Contains(strings.Join(c.Notes, ""), "sliding_window 16")
		}},
		{"mistral null window", func(c map[string]any) {
			c["architectures"] = []string{"MistralForCausalLM"}
			c["sliding_window"] = nil
		}, func(c *hfConfig) bool { return c.SeqLen == 64 && len(c.Notes) == 0 }},
		{"qwen2 window unused", func(c map[string]any) {
			c["architectures"] = []string{"Qwen2ForCausalLM"}
			c["sliding_window"] = 16
			c["use_sliding_window"] = false
		}, func(c *hfConfig) bool { return c.SeqLen == 64 && len(c.Notes) == 1 }},
		{"qwen2 window used", func(c map[string]any) {
			c["architectures"] = []string{"Qwen2ForCausalLM"}
			c["sliding_window"] = 16
			c["use_sliding_window"] = true
		}, func(c *hfConfig) bool { return c.SeqLen == 16 }},
		{"eos list", func(c map[string]any) { c["eos_token_id"] = []int{3, 4}; c["bos_token_id"] = 1 }, func(c *hfConfig) bool {
			return len(c.EOS) == 2 && c.EOS[1] == 4 && len(c.BOS) == 1 && c.BOS[0] == 1
		}},
	}
	for _, tc := range cases {
		cfg := smallConfig()
		tc.edit(cfg)
		c, err := parseMap(t, cfg)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s: got %+v", tc.name, c)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(map[string]any)
		code  string
		words []string
	}{
		{"unknown architecture", func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} }, "model.unsupported_architecture", []string{"GPT2LMHeadModel"}},
		{"unknown model_type", func(c map[string]any) { delete(c, "architectures"); c["model_type"] = "phi3" }, "model.unsupported_architecture", []string{"phi3"}},
		{"no architecture", func(c map[string]any) { delete(c, "architectures") }, "model.bad_config", []string{"architectures"}},
		{"rope scaling", func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0}
		}, "model.unsupported_rope", []string{"llama3", "rope_scaling"}},
		{"old-style rope scaling", func(c map[string]any) { c["rope_scaling"] = map[string]any{"type": "linear", "factor": 2.0} }, "model.unsupported_rope", []string{"linear"}},
		{"rope_parameters yarn", func(c map[string]any) { c["rope_parameters"] = map[string]any{"rope_type": "yarn"} }, "model.unsupported_rope", []string{"yarn"}},
		{"activation", func(c map[string]any) { c["hidden_act"] = "gelu" }, "model.unsupported_feature", []string{"gelu"}},
		{"mlp bias", func(c map[string]any) { c["mlp_bias"] = true }, "model.unsupported_feature", []string{"mlp_bias"}},
		{"missing size", func(c map[string]any) { delete(c, "hidden_size") }, "model.bad_config", []string{"hidden_size"}},
		{"negative", func(c map[string]any) { c["num_hidden_layers"] = -2 }, "model.bad_config", []string{"num_hidden_layers"}},
		{"fractional", func(c map[string]any) { c["vocab_size"] = 10.5 }, "model.bad_config", []string{"vocab_size"}},
		{"string", func(c map[string]any) { c["intermediate_size"] = "12" }, "model.bad_config", []string{"intermediate_size"}},
		{"heads", func(c map[string]any) { c["num_key_value_heads"] = 3 }, "model.bad_config", []string{"kv heads"}},
		{"zero eps", func(c map[string]any) { c["rms_norm_eps"] = 0 }, "model.bad_config", []string{"rms_norm_eps"}},
		{"theta", func(c map[string]any) { c["rope_theta"] = 1e300 }, "model.unsupported_rope", []string{"rope_theta"}},
		{"huge heads", func(c map[string]any) { c["num_attention_heads"] = 1 << 20; c["num_key_value_heads"] = 1 }, "model.bad_config", []string{"heads"}},
		{"bad eos", func(c map[string]any) { c["eos_token_id"] = "x" }, "model.bad_config", []string{"eos_token_id"}},
	}
	for _, tc := range cases {
		cfg := smallConfig()
		tc.edit(cfg)
		_, err := parseMap(t, cfg)
		oe, ok := omexerr.As(err)
		if !ok || oe.Category != omexerr.Model || oe.Code != tc.code || oe.File != "config.json" {
			t.Errorf("%s: got %v, want ModelError %s on config.json", tc.name, err, tc.code)
			continue
		}
		for _, w := range tc.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, w)
			}
		}
	}
	if _, err := parseConfig([]byte(`[1]`), "config.json"); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("non-object config: %v", err)
	}
}

func TestOpenNamesConfig(t *testing.T) {
	cfg := smallConfig()
	cfg["architectures"] = []string{"GemmaForCausalLM"}
	dir := writeDir(t, cfg, nil, nil)
	_, err := Open(dir)
	oe := wantModelError(t, err, "model.unsupported_architecture", "GemmaForCausalLM")
	if oe.File != filepath.Join(dir, "config.json") {
		t.Errorf("error names %q", oe.File)
	}
	if _, err := Open(filepath.Join(dir, "nope")); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("missing directory: %v", err)
	}
	os.Remove(filepath.Join(dir, "config.json"))
	_, err = Open(dir)
	wantModelError(t, err, "model.missing_file", "config.json")
}

// FuzzConfig checks that config parsing never panics, fails only with
// ModelErrors, and accepts only configs whose tensor shapes make sense.
func FuzzConfig(f *testing.F) {
	for _, edit := range []func(map[string]any){
		func(map[string]any) {},
		func(c map[string]any) { c["architectures"] = []string{"Qwen2ForCausalLM"}; c["sliding_window"] = 4 },
		func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3"}
			c["eos_token_id"] = []int{1, 2}
		},
		func(c map[string]any) { c["head_dim"] = 6; c["attention_bias"] = true },
	} {
		cfg := smallConfig()
		edit(cfg)
		data, _ := json.Marshal(cfg)
		f.Add(data)
	}
	if real, err := os.ReadFile(filepath.Join(testfiles.Shared(f), "models", "tinystories-656k", "config.json")); err == nil {
		f.Add(real)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig(data, "config.json")
		if err != nil {
			if omexerr.CategoryOf(err) != omexerr.Model {
				t.Fatalf("uncategorized error: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		for _, w := range expected(c) {
			for _, d := range w.Shape {
				if d <= 0 {
					t.Fatalf("tensor %s has shape %v", w.Name, w.Shape)
				}
			}
		}
	})
}

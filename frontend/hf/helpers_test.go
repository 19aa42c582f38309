package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend/safetensors"
	"github.com/omex-dev/omex/omexerr"
)

// smallConfig is a tiny Llama config.json as a map tests can edit.
func smallConfig() map[string]any {
	return map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"hidden_size":             8,
		"intermediate_size":       12,
		"num_hidden_layers":       2,
		"num_attention_heads":     4,
		"num_key_value_heads":     2,
		"max_position_embeddings": 64,
		"vocab_size":              10,
		"rms_norm_eps":            1e-5,
		"rope_theta":              500000.0,
		"tie_word_embeddings":     false,
		"rope_scaling":            nil,
	}
}

// dtypeSize is the bytes per element of the dtypes the tests write.
var dtypeSize = map[string]int{"F32": 4, "F16": 2, "BF16": 2, "I8": 1, "F64": 8}

// entry makes a tensor of random bytes (any bit pattern is a valid
// payload for the round-trip tests).
func entry(rng *rand.Rand, name, dtype string, shape ...int) safetensors.Entry {
	n := dtypeSize[dtype]
	for _, d := range shape {
		n *= d
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	return safetensors.Entry{Name: name, DType: dtype, Shape: shape, Data: data}
}

// checkpoint makes the HF tensors a config map calls for, in dtype; biases
// are added when withBias is set (q/k/v) and lm_head unless tied.
func checkpoint(cfg map[string]any, dtype string, withBias bool) []safetensors.Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	dim, hidden := cfg["hidden_size"].(int), cfg["intermediate_size"].(int)
	heads, kv := cfg["num_attention_heads"].(int), cfg["num_key_value_heads"].(int)
	vocab, layers := cfg["vocab_size"].(int), cfg["num_hidden_layers"].(int)
	hd := dim / heads
	es := []safetensors.Entry{entry(rng, "model.embed_tokens.weight", dtype, vocab, dim)}
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		es = append(es,
			entry(rng, p+"input_layernorm.weight", dtype, dim),
			entry(rng, p+"self_attn.q_proj.weight", dtype, heads*hd, dim),
			entry(rng, p+"self_attn.k_proj.weight", dtype, kv*hd, dim),
			entry(rng, p+"self_attn.v_proj.weight", dtype, kv*hd, dim),
			entry(rng, p+"self_attn.o_proj.weight", dtype, dim, heads*hd),
			entry(rng, p+"post_attention_layernorm.weight", dtype, dim),
			entry(rng, p+"mlp.gate_proj.weight", dtype, hidden, dim),
			entry(rng, p+"mlp.up_proj.weight", dtype, hidden, dim),
			entry(rng, p+"mlp.down_proj.weight", dtype, dim, hidden),
		)
		if withBias {
			es = append(es,
				entry(rng, p+"self_attn.q_proj.bias", dtype, heads*hd),
				entry(rng, p+"self_attn.k_proj.bias", dtype, kv*hd),
				entry(rng, p+"self_attn.v_proj.bias", dtype, kv*hd))
		}
	}
	es = append(es, entry(rng, "model.norm.weight", dtype, dim))
	if tied, _ := cfg["tie_word_embeddings"].(bool); !tied {
		es = append(es, entry(rng, "lm_head.weight", dtype, vocab, dim))
	}
	return es
}

// writeDir writes a model directory: config.json and model.safetensors.
func writeDir(t *testing.T, cfg map[string]any, es []safetensors.Entry, meta map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), es, meta)
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeSafetensors(t *testing.T, path string, es []safetensors.Entry, meta map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, es, meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantModelError checks that err is a ModelError with code whose message
// mentions every one of words.
func wantModelError(t *testing.T, err error, code string, words ...string) *omexerr.Error {
	t.Helper()
	oe, ok := omexerr.As(err)
	if !ok {
		t.Fatalf("got %v, want ModelError %s", err, code)
	}
	if oe.Category != omexerr.Model || oe.Code != code {
		t.Errorf("got %v, want ModelError %s", err, code)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	return oe
}

// randFor is a seeded random source for one test value.
func randFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

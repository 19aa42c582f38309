package hf

import (
	"strconv"
	"strings"

	"github.com/omex-dev/omex/runtime/model"
)

// layerParts maps the per-layer module paths of the Llama family's HF
// checkpoints to the canonical part names.
var layerParts = map[string]string{
	"self_attn.q_proj":         "attn_q",
	"self_attn.k_proj":         "attn_k",
	"self_attn.v_proj":         "attn_v",
	"self_attn.o_proj":         "attn_output",
	"mlp.gate_proj":            "ffn_gate",
	"mlp.up_proj":              "ffn_up",
	"mlp.down_proj":            "ffn_down",
	"input_layernorm":          "attn_norm",
	"post_attention_layernorm": "ffn_norm",
}

// canonicalName maps a Hugging Face tensor name to OMEX's canonical one,
// or reports false for tensors OMEX does not use (rotary caches and such).
func canonicalName(hf string) (string, bool) {
	switch hf {
	case "model.embed_tokens.weight":
		return model.TokenEmbd, true
	case "model.norm.weight":
		return model.OutputNorm, true
	case "lm_head.weight":
		return model.Output, true
	}
	rest, ok := strings.CutPrefix(hf, "model.layers.")
	if !ok {
		return "", false
	}
	num, rest, ok := strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	layer, err := strconv.Atoi(num)
	// Only the plain decimal spelling is a layer index ("01" or "+1" would
	// map two HF names to one canonical name).
	if err != nil || layer < 0 || strconv.Itoa(layer) != num {
		return "", false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return "", false
	}
	module, kind := rest[:dot], rest[dot+1:]
	part, ok := layerParts[module]
	if !ok || (kind != "weight" && kind != "bias") {
		return "", false
	}
	return model.LayerTensor(layer, part+"."+kind), true
}

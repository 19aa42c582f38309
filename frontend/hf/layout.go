package hf

import (
	"fmt"
	"slices"

	"github.com/omex-dev/omex/frontend/safetensors"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// wanted is a canonical tensor a config calls for, with its shape and its
// usual Hugging Face name (for messages about it).
type wanted struct {
	tensor.Info
	hfName string
}

// expected lists the canonical tensors a config calls for, in the order
// Tensors reports them.
func expected(c *hfConfig) []wanted {
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	out := []wanted{{tensor.Info{Name: model.TokenEmbd, Shape: []int{c.Vocab, c.Dim}}, "model.embed_tokens.weight"}}
	for l := 0; l < c.Layers; l++ {
		add := func(module, kind string, shape ...int) {
			part := layerParts[module] + "." + kind
			hf := fmt.Sprintf("model.layers.%d.%s.%s", l, module, kind)
			out = append(out, wanted{tensor.Info{Name: model.LayerTensor(l, part), Shape: shape}, hf})
		}
		add("input_layernorm", "weight", c.Dim)
		add("self_attn.q_proj", "weight", q, c.Dim)
		add("self_attn.k_proj", "weight", kv, c.Dim)
		add("self_attn.v_proj", "weight", kv, c.Dim)
		if c.QKVBias {
			add("self_attn.q_proj", "bias", q)
			add("self_attn.k_proj", "bias", kv)
			add("self_attn.v_proj", "bias", kv)
		}
		add("self_attn.o_proj", "weight", c.Dim, q)
		if c.OutputBias {
			add("self_attn.o_proj", "bias", c.Dim)
		}
		add("post_attention_layernorm", "weight", c.Dim)
		add("mlp.gate_proj", "weight", c.Hidden, c.Dim)
		add("mlp.up_proj", "weight", c.Hidden, c.Dim)
		add("mlp.down_proj", "weight", c.Dim, c.Hidden)
	}
	out = append(out, wanted{tensor.Info{Name: model.OutputNorm, Shape: []int{c.Dim}}, "model.norm.weight"})
	if !c.Tied {
		out = append(out, wanted{tensor.Info{Name: model.Output, Shape: []int{c.Vocab, c.Dim}}, "lm_head.weight"})
	}
	return out
}

// located is a canonical tensor and where its data is.
type located struct {
	stored
	hfName string // the name it goes by in the checkpoint (maybe an alias)
}

// layout matches the checkpoint's tensors to the ones the config calls
// for. Every expected tensor must be present with the expected shape and a
// loadable dtype; a canonical tensor the config does not call for (a bias
// the config says is absent, a layer past num_hidden_layers) is an error,
// since dropping it would change the model. Other names are skipped.
func layout(c *hfConfig, w *weights) ([]tensor.Info, map[string]located, error) {
	found := map[string]located{}
	for hfName, s := range w.byName {
		if canon, ok := canonicalName(hfName); ok {
			found[canon] = located{s, hfName}
		}
	}
	if c.Tied {
		// Tied weights are one tensor; a checkpoint may have kept either
		// name, and the classifier copy is not reported separately.
		if _, ok := found[model.TokenEmbd]; !ok {
			if out, ok := found[model.Output]; ok {
				found[model.TokenEmbd] = out
			}
		}
		delete(found, model.Output)
	}
	want := expected(c)
	infos := make([]tensor.Info, len(want))
	where := make(map[string]located, len(want))
	for i, e := range want {
		loc, ok := found[e.Name]
		if !ok {
			return nil, nil, omexerr.Modelf("model.missing_tensor", "required tensor %s (%s) is not in the checkpoint", e.Name, e.hfName).
				WithFile(w.main).WithTensor(e.Name)
		}
		delete(found, e.Name)
		info := loc.info
		off := loc.file.DataStart + info.Begin
		if !slices.Equal(info.Shape, e.Shape) {
			return nil, nil, omexerr.Modelf("model.bad_shape", "tensor %s (%s) has shape %v, config.json calls for %v", e.Name, loc.hfName, info.Shape, e.Shape).
				WithFile(loc.file.Name).WithTensor(e.Name).WithOffset(off)
		}
		dt, ok := safetensors.DTypeOf(info.DType)
		if !ok {
			return nil, nil, omexerr.Modelf("model.unsupported_dtype", "tensor %s (%s) has dtype %s; only F32, F16 and BF16 are supported", e.Name, loc.hfName, info.DType).
				WithFile(loc.file.Name).WithTensor(e.Name).WithOffset(off)
		}
		infos[i] = tensor.Info{Name: e.Name, DType: dt, Shape: e.Shape}
		where[e.Name] = loc
	}
	var extra []string
	for canon := range found {
		extra = append(extra, canon)
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		loc := found[extra[0]]
		return nil, nil, omexerr.Modelf("model.unexpected_tensor", "tensor %s (%s) is not part of the model config.json describes", extra[0], loc.hfName).
			WithFile(loc.file.Name).WithTensor(extra[0]).WithOffset(loc.file.DataStart + loc.info.Begin)
	}
	return infos, where, nil
}

package importer

import (
	"fmt"
	"strings"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// Node types and ids of the decoder graph an import writes.
const (
	nodeEmbedding = "embedding"
	nodeBlock     = "transformer_block"
	nodeNorm      = "norm"
	nodeLinear    = "linear"

	idEmbed  = "embed"
	idNorm   = "final_norm"
	idHead   = "lm_head"
	graphTyp = "decoder_only_transformer"
)

func blockID(l int) string { return fmt.Sprintf("block_%d", l) }

// buildGraph describes a Llama-family decoder as graph.json: the embedding,
// one transformer_block per layer, the final norm and the classifier, each
// node listing the weights it reads with their stored dtype and shape.
func buildGraph(name string, cfg model.Config, infos []tensor.Info) (format.Graph, error) {
	byName := map[string]tensor.Info{}
	for _, ti := range infos {
		byName[ti.Name] = ti
	}
	ref := func(n string) (format.WeightRef, error) {
		ti, ok := byName[n]
		if !ok {
			return format.WeightRef{}, omexerr.Modelf("model.missing_tensor", "the model has no tensor %s", n).WithTensor(n)
		}
		return format.WeightRef{Name: n, DType: ti.DType.String(), Shape: ti.Shape}, nil
	}
	refs := func(names ...string) ([]format.WeightRef, error) {
		var out []format.WeightRef
		for _, n := range names {
			r, err := ref(n)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}

	g := format.Graph{GraphID: sanitizeID(name), GraphType: graphTyp}
	w, err := refs(model.TokenEmbd)
	if err != nil {
		return g, err
	}
	g.Nodes = append(g.Nodes, format.Node{
		ID: idEmbed, Type: nodeEmbedding, Inputs: []string{"tokens"}, Outputs: []string{"hidden"},
		Config:  format.NodeConfig{VocabSize: cfg.Vocab, HiddenSize: cfg.Dim, ContextLength: cfg.SeqLen},
		Weights: w,
	})
	prev := format.Endpoint(idEmbed, "hidden")
	for l := 0; l < cfg.Layers; l++ {
		parts := []string{"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
			"ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"}
		if cfg.QKVBias {
			parts = append(parts, "attn_q.bias", "attn_k.bias", "attn_v.bias")
		}
		if cfg.OutputBias {
			parts = append(parts, "attn_output.bias")
		}
		names := make([]string, len(parts))
		for i, p := range parts {
			names[i] = model.LayerTensor(l, p)
		}
		if w, err = refs(names...); err != nil {
			return g, err
		}
		layer := l
		id := blockID(l)
		g.Nodes = append(g.Nodes, format.Node{
			ID: id, Type: nodeBlock, Inputs: []string{"hidden"}, Outputs: []string{"hidden"},
			Config: format.NodeConfig{
				Layer: &layer, HiddenSize: cfg.Dim, IntermediateSize: cfg.Hidden,
				NumAttentionHeads: cfg.Heads, NumKeyValueHeads: cfg.KVHeads, AttentionHeadSize: cfg.HeadDim,
				ContextLength: cfg.SeqLen, RopeTheta: cfg.RopeTheta, RopeLayout: string(cfg.RopeLayout),
				NormType: "rms_norm", NormEps: cfg.NormEps, Activation: "silu", QKVBias: cfg.QKVBias, OutputBias: cfg.OutputBias,
			},
			Weights: w,
		})
		g.Edges = append(g.Edges, format.Edge{From: prev, To: format.Endpoint(id, "hidden")})
		prev = format.Endpoint(id, "hidden")
	}
	if w, err = refs(model.OutputNorm); err != nil {
		return g, err
	}
	g.Nodes = append(g.Nodes, format.Node{
		ID: idNorm, Type: nodeNorm, Inputs: []string{"input"}, Outputs: []string{"output"},
		Config:  format.NodeConfig{HiddenSize: cfg.Dim, NormType: "rms_norm", NormEps: cfg.NormEps},
		Weights: w,
	})
	g.Edges = append(g.Edges, format.Edge{From: prev, To: format.Endpoint(idNorm, "input")})
	head := model.Output
	if cfg.Tied {
		head = model.TokenEmbd
	}
	if w, err = refs(head); err != nil {
		return g, err
	}
	g.Nodes = append(g.Nodes, format.Node{
		ID: idHead, Type: nodeLinear, Inputs: []string{"input"}, Outputs: []string{"logits"},
		Config:  format.NodeConfig{InFeatures: cfg.Dim, OutFeatures: cfg.Vocab},
		Weights: w,
	})
	g.Edges = append(g.Edges, format.Edge{From: format.Endpoint(idNorm, "output"), To: format.Endpoint(idHead, "input")})
	g.EntryPoints = []format.EntryPoint{{
		Name:    "generate",
		Inputs:  []string{format.Endpoint(idEmbed, "tokens")},
		Outputs: []string{format.Endpoint(idHead, "logits")},
	}}
	return g, nil
}

// configFromGraph reads the decoder's shape back from graph.json.
func configFromGraph(g *format.Graph, file string) (model.Config, error) {
	var cfg model.Config
	bad := func(format string, args ...any) error {
		return omexerr.Modelf("model.bad_graph", format, args...).WithFile(file)
	}
	var haveEmbed, haveHead bool
	for i := range g.Nodes {
		n := &g.Nodes[i]
		c := &n.Config
		switch n.Type {
		case nodeEmbedding:
			haveEmbed = true
			cfg.Vocab, cfg.Dim, cfg.SeqLen = c.VocabSize, c.HiddenSize, c.ContextLength
		case nodeBlock:
			if c.Layer == nil || *c.Layer != cfg.Layers {
				return cfg, bad("transformer_block %s is out of order (layer %v, expected %d)", n.ID, c.Layer, cfg.Layers)
			}
			if c.NormType != "rms_norm" || c.Activation != "silu" {
				return cfg, bad("transformer_block %s uses norm %q / activation %q; the runtime supports rms_norm / silu", n.ID, c.NormType, c.Activation)
			}
			if c.MLPBias {
				return cfg, bad("transformer_block %s has MLP biases, which the runtime does not support", n.ID)
			}
			cfg.Layers++
			cfg.Hidden, cfg.Heads, cfg.KVHeads, cfg.HeadDim = c.IntermediateSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.AttentionHeadSize
			cfg.RopeTheta, cfg.RopeLayout, cfg.NormEps, cfg.QKVBias, cfg.OutputBias = c.RopeTheta, model.RopeLayout(c.RopeLayout), c.NormEps, c.QKVBias, c.OutputBias
		case nodeLinear:
			if n.ID != idHead {
				continue
			}
			haveHead = true
			if len(n.Weights) != 1 {
				return cfg, bad("lm_head must read exactly one weight")
			}
			cfg.Tied = n.Weights[0].Name == model.TokenEmbd
		}
	}
	if !haveEmbed || !haveHead || cfg.Layers == 0 {
		return cfg, bad("graph is not a decoder: it needs an embedding, transformer blocks and an lm_head")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, bad("graph describes an unusable model: %v", err)
	}
	return cfg, nil
}

// sanitizeID makes a graph id from a model name.
func sanitizeID(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	id := b.String()
	if len(id) > 64 {
		id = id[:64]
	}
	if id == "" {
		return "model"
	}
	return id
}

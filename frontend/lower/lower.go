// Package lower turns an opened model (a frontend.Source: a foreign file or
// an OMEX package, whose decoder shape comes from graph.json) into an OMEX IR
// module: the weights it reads, the KV-cache state, and the two entry points
// prefill and decode written with plain, unfused ops. The passes optimize
// that module; the interpreter runs it.
package lower

import (
	"fmt"
	"slices"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// The entry points a lowered module has, and the states it declares.
const (
	Prefill = "prefill" // (%tokens: i32[seq], %pos: i32[]) -> f32[seq,vocab] (f32[1,vocab] once pruned)
	Decode  = "decode"  // (%token: i32[1], %pos: i32[]) -> f32[1,vocab]
)

// KState and VState name the KV-cache states of layer l.
func KState(l int) string { return fmt.Sprintf("kv.%d.k", l) }

// VState names the V half of layer l's KV cache; see KState.
func VState(l int) string { return fmt.Sprintf("kv.%d.v", l) }

// Lower builds the IR module of src's model. The module is named after the
// model and binds ctx to its context length. It declares, in execution
// order, the weights the decoder reads (with the dtype and shape src stores
// them in; tensors the decoder does not use are not declared) and per layer
// the states @kv.N.k and @kv.N.v : f32[ctx, kv_heads*head_dim]. prefill
// returns the logits of every prompt row, decode those of its one token:
// output pruning is a pass's job, so the unoptimized module states the
// whole computation. A configuration or tensor the IR cannot express is a
// ModelError naming the tensor.
func Lower(src frontend.Source) (*ir.Module, error) {
	cfg := src.Config()
	if err := cfg.Validate(); err != nil {
		return nil, omexerr.Modelf("model.unsupported", "the model's configuration cannot be lowered").Wrap(err)
	}
	name := src.Meta().Name
	if name == "" {
		name = "model"
	}
	m := ir.NewModule(name)
	if err := m.AddDim("ctx", cfg.SeqLen); err != nil {
		return nil, omexerr.Modelf("model.unsupported", "context length %d cannot be lowered", cfg.SeqLen).Wrap(err)
	}
	if err := declareWeights(m, cfg, src); err != nil {
		return nil, err
	}
	kvDim := cfg.KVHeads * cfg.HeadDim
	for l := 0; l < cfg.Layers; l++ {
		for _, s := range []string{KState(l), VState(l)} {
			if _, err := m.AddState(s, ir.T(ir.F32, ir.S("ctx"), ir.C(kvDim))); err != nil {
				return nil, omexerr.Modelf("model.unsupported", "cannot declare the KV cache").Wrap(err)
			}
		}
	}
	for _, fn := range []struct {
		name, tokens string
		rows         ir.Dim
	}{{Prefill, "tokens", ir.S("seq")}, {Decode, "token", ir.C(1)}} {
		f, err := m.AddFunc(fn.name)
		if err != nil {
			return nil, omexerr.Modelf("model.unsupported", "cannot add function %s", fn.name).Wrap(err)
		}
		b := ir.NewBuilder(m, f)
		tokens := b.Param(fn.tokens, ir.T(ir.I32, fn.rows))
		pos := b.Param("pos", ir.T(ir.I32))
		b.Return(b.Name(decoder(b, cfg, tokens, pos), "logits"))
		if err := b.Err(); err != nil {
			return nil, omexerr.Modelf("model.unsupported", "the model cannot be expressed in the IR").Wrap(err)
		}
	}
	if err := ir.Verify(m); err != nil {
		// The lowering built every instruction through the builder's type
		// rules, so this is a bug here, not in the model.
		return nil, fmt.Errorf("lowering produced a module that does not verify: %w", err)
	}
	return m, nil
}

// decoder emits the Llama-family forward pass over the rows of tokens (the
// first at position pos) and returns the classifier's logits for every row.
// It follows runtime/model's Forward operation for operation, so the
// interpreter computes the same float32 numbers.
func decoder(b *ir.Builder, cfg model.Config, tokens, pos *ir.Value) *ir.Value {
	rope := func(heads int) ir.Rope {
		return ir.Rope{Heads: heads, HeadDim: cfg.HeadDim, Theta: cfg.RopeTheta, Layout: string(cfg.RopeLayout)}
	}
	x := b.Name(b.Embed(tokens, model.TokenEmbd), "x")
	for l := 0; l < cfg.Layers; l++ {
		w := func(part string) string { return model.LayerTensor(l, part) }
		bias := func(on bool, part string) []string {
			if on {
				return []string{w(part)}
			}
			return nil
		}
		named := func(v *ir.Value, what string) *ir.Value { return b.Name(v, fmt.Sprintf("%s.%d", what, l)) }

		h := b.RMSNorm(x, w("attn_norm.weight"), cfg.NormEps)
		q := b.MatMul(h, w("attn_q.weight"), bias(cfg.QKVBias, "attn_q.bias")...)
		k := b.MatMul(h, w("attn_k.weight"), bias(cfg.QKVBias, "attn_k.bias")...)
		v := named(b.MatMul(h, w("attn_v.weight"), bias(cfg.QKVBias, "attn_v.bias")...), "v")
		q = named(b.Rope(q, pos, rope(cfg.Heads)), "q")
		k = named(b.Rope(k, pos, rope(cfg.KVHeads)), "k")
		a := named(b.Attention(q, k, v, pos, KState(l), VState(l), cfg.Heads, cfg.KVHeads, cfg.HeadDim), "attn")
		x = named(b.Add(x, b.MatMul(a, w("attn_output.weight"), bias(cfg.OutputBias, "attn_output.bias")...)), "h")

		h = b.RMSNorm(x, w("ffn_norm.weight"), cfg.NormEps)
		g := b.Silu(b.MatMul(h, w("ffn_gate.weight")))
		u := b.MatMul(h, w("ffn_up.weight"))
		x = named(b.Add(x, b.MatMul(b.Mul(g, u), w("ffn_down.weight"))), "x")
	}
	x = b.RMSNorm(x, model.OutputNorm, cfg.NormEps)
	return b.MatMul(x, classifier(cfg))
}

// classifier names the weight of the output projection.
func classifier(cfg model.Config) string {
	if cfg.Tied {
		return model.TokenEmbd
	}
	return model.Output
}

// weightShape is one weight the decoder reads and the shape it must have.
type weightShape struct {
	name  string
	shape []int
}

// decoderWeights lists the weights the decoder reads, in execution order,
// with their canonical [out, in] shapes (runtime/model/config.go).
func decoderWeights(cfg model.Config) []weightShape {
	qDim, kvDim := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	ws := []weightShape{{model.TokenEmbd, []int{cfg.Vocab, cfg.Dim}}}
	for l := 0; l < cfg.Layers; l++ {
		add := func(part string, shape ...int) { ws = append(ws, weightShape{model.LayerTensor(l, part), shape}) }
		add("attn_norm.weight", cfg.Dim)
		add("attn_q.weight", qDim, cfg.Dim)
		add("attn_k.weight", kvDim, cfg.Dim)
		add("attn_v.weight", kvDim, cfg.Dim)
		if cfg.QKVBias {
			add("attn_q.bias", qDim)
			add("attn_k.bias", kvDim)
			add("attn_v.bias", kvDim)
		}
		add("attn_output.weight", cfg.Dim, qDim)
		if cfg.OutputBias {
			add("attn_output.bias", cfg.Dim)
		}
		add("ffn_norm.weight", cfg.Dim)
		add("ffn_gate.weight", cfg.Hidden, cfg.Dim)
		add("ffn_up.weight", cfg.Hidden, cfg.Dim)
		add("ffn_down.weight", cfg.Dim, cfg.Hidden)
	}
	ws = append(ws, weightShape{model.OutputNorm, []int{cfg.Dim}})
	if !cfg.Tied {
		ws = append(ws, weightShape{model.Output, []int{cfg.Vocab, cfg.Dim}})
	}
	return ws
}

// declareWeights declares every weight the decoder reads with the dtype and
// shape src stores it in, after checking that the tensor exists, has a
// dtype the IR knows and the shape the configuration implies.
func declareWeights(m *ir.Module, cfg model.Config, src frontend.Source) error {
	infos := map[string]tensor.Info{}
	for _, ti := range src.Tensors() {
		infos[ti.Name] = ti
	}
	for _, want := range decoderWeights(cfg) {
		ti, ok := infos[want.name]
		if !ok {
			return omexerr.Modelf("model.missing_tensor", "the model has no tensor %s, which its configuration needs", want.name).WithTensor(want.name)
		}
		elem, ok := ir.ElemOf(ti.DType)
		if !ok {
			return omexerr.Modelf("model.unsupported_dtype", "tensor %s has dtype %s, which the IR cannot represent", ti.Name, ti.DType).WithTensor(ti.Name)
		}
		if !slices.Equal(ti.Shape, want.shape) {
			return omexerr.Modelf("model.bad_shape", "tensor %s has shape %v; the configuration needs %v", ti.Name, ti.Shape, want.shape).WithTensor(ti.Name)
		}
		dims := make([]ir.Dim, len(ti.Shape))
		for j, d := range ti.Shape {
			dims[j] = ir.C(d)
		}
		if _, err := m.AddWeight(ti.Name, ir.T(elem, dims...)); err != nil {
			return omexerr.Modelf("model.unsupported", "cannot declare tensor %s", ti.Name).WithTensor(ti.Name).Wrap(err)
		}
	}
	return nil
}

package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/omex-dev/omex/tensor"
)

// refF16 decodes a half from its definition, independently of the kernels'
// decoder, so tests judge stored F16 values by the standard.
func refF16(h uint16) float32 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0x1f:
		if frac != 0 {
			return float32(math.NaN())
		}
		return float32(sign * math.Inf(1))
	case 0:
		return float32(sign * math.Ldexp(frac/1024, -14))
	}
	return float32(sign * math.Ldexp(1+frac/1024, exp-15))
}

// f32Tensor wraps values as an F32 tensor of the given shape.
func f32Tensor(name string, vals []float32, shape ...int) *tensor.Tensor {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return &tensor.Tensor{Name: name, DType: tensor.F32, Shape: shape, Data: b}
}

// randVals returns n normal values scaled by s.
func randVals(r *rand.Rand, n int, s float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * s)
	}
	return v
}

// tinyConfig is a small model with every feature on: GQA, biases, an
// untied classifier and rows that are multiples of the block size.
func tinyConfig() Config {
	return Config{Dim: 64, Hidden: 96, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, Vocab: 64,
		SeqLen: 24, RopeTheta: 10000, RopeLayout: RopeHalfSplit, NormEps: 1e-5, QKVBias: true}
}

// randomWeights returns every tensor cfg needs, as F32 values keyed by name,
// with their shapes.
func randomWeights(cfg Config, seed uint64) (map[string][]float32, map[string][]int) {
	r := rand.New(rand.NewPCG(seed, 99))
	vals, shapes := map[string][]float32{}, map[string][]int{}
	add := func(name string, scale float64, shape ...int) {
		n := 1
		for _, s := range shape {
			n *= s
		}
		vals[name], shapes[name] = randVals(r, n, scale), shape
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	add(TokenEmbd, 1, cfg.Vocab, cfg.Dim)
	for l := range cfg.Layers {
		name := func(p string) string { return LayerTensor(l, p) }
		add(name("attn_norm.weight"), 0.3, cfg.Dim)
		add(name("attn_q.weight"), 0.2, q, cfg.Dim)
		add(name("attn_k.weight"), 0.2, kv, cfg.Dim)
		add(name("attn_v.weight"), 0.2, kv, cfg.Dim)
		if cfg.QKVBias {
			add(name("attn_q.bias"), 0.1, q)
			add(name("attn_k.bias"), 0.1, kv)
			add(name("attn_v.bias"), 0.1, kv)
		}
		add(name("attn_output.weight"), 0.1, cfg.Dim, q)
		if cfg.OutputBias {
			add(name("attn_output.bias"), 0.1, cfg.Dim)
		}
		add(name("ffn_norm.weight"), 0.3, cfg.Dim)
		add(name("ffn_gate.weight"), 0.2, cfg.Hidden, cfg.Dim)
		add(name("ffn_up.weight"), 0.2, cfg.Hidden, cfg.Dim)
		add(name("ffn_down.weight"), 0.1, cfg.Dim, cfg.Hidden)
	}
	add(OutputNorm, 0.3, cfg.Dim)
	if !cfg.Tied {
		add(Output, 0.2, cfg.Vocab, cfg.Dim)
	}
	for l := range cfg.Layers { // norms near 1, as trained models have
		for _, p := range []string{"attn_norm.weight", "ffn_norm.weight"} {
			for i := range vals[LayerTensor(l, p)] {
				vals[LayerTensor(l, p)][i] += 1
			}
		}
	}
	return vals, shapes
}

// getter serves tensors built by conv from a weight set.
func getter(vals map[string][]float32, shapes map[string][]int, conv func(name string, v []float32, shape []int) *tensor.Tensor) func(string) (*tensor.Tensor, error) {
	return func(name string) (*tensor.Tensor, error) {
		v, ok := vals[name]
		if !ok {
			return nil, fmt.Errorf("no tensor %s", name)
		}
		return conv(name, v, shapes[name]), nil
	}
}

func asF32(name string, v []float32, shape []int) *tensor.Tensor {
	return f32Tensor(name, v, shape...)
}

// forwardAll feeds tokens at positions 0.. and returns a copy of every
// step's logits.
func forwardAll(m *Model, tokens []int) ([][]float32, error) {
	var out [][]float32
	for pos, tok := range tokens {
		lg, err := m.Forward(tok, pos)
		if err != nil {
			return nil, err
		}
		out = append(out, append([]float32(nil), lg...))
	}
	return out, nil
}

// Package model is the pure-Go fp32 reference forward pass of the Llama
// family: the oracle every optimized path is checked against.
package model

import (
	"fmt"
)

// RopeLayout says which pairs of a head's dimensions rotate together.
type RopeLayout string

// The two rotary conventions. Interleaved rotates (2i, 2i+1): llama2.c,
// Meta's original code and GGUF (whose converters permute Q/K rows into it).
// HalfSplit rotates (i, i+headDim/2): Hugging Face and GPT-NeoX.
const (
	RopeInterleaved RopeLayout = "interleaved"
	RopeHalfSplit   RopeLayout = "half_split"
)

// Config is the shape of a Llama-family decoder.
type Config struct {
	Dim        int // hidden size
	Hidden     int // FFN intermediate size
	Layers     int
	Heads      int
	KVHeads    int
	HeadDim    int // usually Dim/Heads
	Vocab      int
	SeqLen     int // maximum context
	RopeTheta  float32
	RopeLayout RopeLayout
	NormEps    float32
	QKVBias    bool // Qwen2-style q/k/v biases
	OutputBias bool // attention output projection bias (Llama attention_bias)
	Tied       bool // classifier shares the token embedding
}

// Validate checks that the numbers describe a model this runtime can run.
func (c *Config) Validate() error {
	switch {
	case c.Dim <= 0 || c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.HeadDim <= 0 || c.Vocab <= 0 || c.SeqLen <= 0:
		return fmt.Errorf("non-positive dimension in %+v", *c)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("heads %d not a multiple of kv heads %d", c.Heads, c.KVHeads)
	case c.HeadDim%2 != 0:
		return fmt.Errorf("head dim %d is odd", c.HeadDim)
	case c.RopeLayout != RopeInterleaved && c.RopeLayout != RopeHalfSplit:
		return fmt.Errorf("unknown rope layout %q", c.RopeLayout)
	case c.Dim > 1<<20 || c.Hidden > 1<<22 || c.Layers > 4096 || c.Vocab > 1<<24 || c.SeqLen > 1<<24:
		return fmt.Errorf("absurd dimension in %+v", *c)
	}
	return nil
}

// Canonical tensor names (GGUF's). Linear weights are [out, in].
//
//	token_embd.weight            [vocab, dim]
//	blk.N.attn_norm.weight       [dim]
//	blk.N.attn_q.weight          [heads*headDim, dim]   (+ .bias when QKVBias)
//	blk.N.attn_k.weight          [kvHeads*headDim, dim] (+ .bias)
//	blk.N.attn_v.weight          [kvHeads*headDim, dim] (+ .bias)
//	blk.N.attn_output.weight     [dim, heads*headDim]   (+ .bias [dim] when OutputBias)
//	blk.N.ffn_norm.weight        [dim]
//	blk.N.ffn_gate.weight        [hidden, dim]  (w1)
//	blk.N.ffn_up.weight          [hidden, dim]  (w3)
//	blk.N.ffn_down.weight        [dim, hidden]  (w2)
//	output_norm.weight           [dim]
//	output.weight                [vocab, dim]   (absent when Tied)
const (
	TokenEmbd  = "token_embd.weight"
	OutputNorm = "output_norm.weight"
	Output     = "output.weight"
)

// LayerTensor returns the name of tensor part (e.g. "attn_q.weight") of layer l.
func LayerTensor(l int, part string) string { return fmt.Sprintf("blk.%d.%s", l, part) }

package model

import (
	"encoding/binary"
	"testing"

	"github.com/omex-dev/omex/tensor"
)

// FuzzNew feeds New a small configuration and tensors whose dtype, shape,
// data length and scale count the fuzzer chooses, then runs a few Forward
// calls with fuzzed tokens and positions. Whatever the input, New and
// Forward must return an error or work: never panic, never index out of
// range.
func FuzzNew(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 2, 1, 2, 1, 8, 16, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{32, 48, 2, 4, 2, 8, 40, 6, 1, 1, 3, 4, 2, 1, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		at := func(i int) int {
			if i < len(in) {
				return int(in[i])
			}
			return 0
		}
		cfg := Config{
			Dim: at(0) % 40, Hidden: at(1) % 50, Layers: at(2) % 3, Heads: at(3) % 5, KVHeads: at(4) % 5,
			HeadDim: at(5) % 12, Vocab: at(6) % 50, SeqLen: at(7) % 9, RopeTheta: 10000, NormEps: 1e-5,
			RopeLayout: RopeInterleaved, QKVBias: at(8)&1 == 1, Tied: at(8)&2 == 2,
		}
		if at(8)&4 == 4 {
			cfg.RopeLayout = RopeHalfSplit
		}
		next := 9
		get := func(name string) (*tensor.Tensor, error) {
			b := at(next)
			next++
			shape := expectedShape(cfg, name)
			n := 1
			for _, s := range shape {
				n *= s
			}
			dt := tensor.DType(b % 6) // 5 is invalid on purpose
			if b&0x40 != 0 && len(shape) > 0 {
				shape = append([]int(nil), shape...)
				shape[0]++
			}
			size := dt.DataBytes(n)
			if b&0x80 != 0 {
				size++
			}
			t := &tensor.Tensor{Name: name, DType: dt, Shape: shape, Data: make([]byte, size)}
			for i := range t.Data {
				t.Data[i] = byte(i*7 + b)
			}
			if dt.Quantized() {
				t.Scales = make([]float32, n/tensor.BlockSize+b&0x20>>5)
			}
			if dt == tensor.F32 { // finite values for F32
				for i := 0; i+4 <= len(t.Data); i += 4 {
					binary.LittleEndian.PutUint32(t.Data[i:], 0x3f800000+uint32(i))
				}
			}
			return t, nil
		}
		m, err := New(cfg, get)
		if err != nil {
			return
		}
		for i := 0; i < 4; i++ {
			tok, pos := at(next+2*i)-3, at(next+2*i+1)%12-2
			if lg, err := m.Forward(tok, pos); err == nil && len(lg) != cfg.Vocab {
				t.Fatalf("got %d logits for vocab %d", len(lg), cfg.Vocab)
			}
		}
	})
}

// expectedShape is the canonical shape of a tensor for cfg (nil if the name
// is not one New asks for).
func expectedShape(c Config, name string) []int {
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	switch name {
	case TokenEmbd, Output:
		return []int{c.Vocab, c.Dim}
	case OutputNorm:
		return []int{c.Dim}
	}
	for l := range c.Layers {
		switch name {
		case LayerTensor(l, "attn_norm.weight"), LayerTensor(l, "ffn_norm.weight"):
			return []int{c.Dim}
		case LayerTensor(l, "attn_q.weight"):
			return []int{q, c.Dim}
		case LayerTensor(l, "attn_k.weight"), LayerTensor(l, "attn_v.weight"):
			return []int{kv, c.Dim}
		case LayerTensor(l, "attn_q.bias"):
			return []int{q}
		case LayerTensor(l, "attn_k.bias"), LayerTensor(l, "attn_v.bias"):
			return []int{kv}
		case LayerTensor(l, "attn_output.weight"):
			return []int{c.Dim, q}
		case LayerTensor(l, "ffn_gate.weight"), LayerTensor(l, "ffn_up.weight"):
			return []int{c.Hidden, c.Dim}
		case LayerTensor(l, "ffn_down.weight"):
			return []int{c.Dim, c.Hidden}
		}
	}
	return nil
}

package interp_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// store is a set of weights by name, served to interp.New and model.New.
type store map[string]*tensor.Tensor

func (s store) get(name string) (*tensor.Tensor, error) {
	t, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %s", name)
	}
	return t, nil
}

// randVals returns n normal values scaled by sc.
func randVals(r *rand.Rand, n int, sc float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * sc)
	}
	return v
}

// f32Tensor stores vals as an F32 tensor.
func f32Tensor(name string, vals []float32, shape ...int) *tensor.Tensor {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return &tensor.Tensor{Name: name, DType: tensor.F32, Shape: shape, Data: b}
}

// bf16Tensor stores vals truncated to bfloat16.
func bf16Tensor(name string, vals []float32, shape ...int) *tensor.Tensor {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(math.Float32bits(v)>>16))
	}
	return &tensor.Tensor{Name: name, DType: tensor.BF16, Shape: shape, Data: b}
}

// q8Tensor quantizes vals to Q8_0 (one scale per 32 values: max|v|/127).
func q8Tensor(name string, vals []float32, shape ...int) *tensor.Tensor {
	t := &tensor.Tensor{Name: name, DType: tensor.Q8_0, Shape: shape, Data: make([]byte, len(vals))}
	for blk := 0; blk < len(vals); blk += tensor.BlockSize {
		var m float32
		for _, v := range vals[blk : blk+tensor.BlockSize] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 127
		t.Scales = append(t.Scales, s)
		for i, v := range vals[blk : blk+tensor.BlockSize] {
			q := 0.0
			if s != 0 {
				q = math.Round(float64(v / s))
			}
			t.Data[blk+i] = byte(int8(q))
		}
	}
	return t
}

// q4Tensor quantizes vals to Q4_0 (scale max|v|/7, nibbles q+8; element j
// of a block in the low nibble of byte j, j+16 in the high nibble).
func q4Tensor(name string, vals []float32, shape ...int) *tensor.Tensor {
	t := &tensor.Tensor{Name: name, DType: tensor.Q4_0, Shape: shape, Data: make([]byte, len(vals)/2)}
	for blk := 0; blk < len(vals); blk += tensor.BlockSize {
		var m float32
		for _, v := range vals[blk : blk+tensor.BlockSize] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 7
		t.Scales = append(t.Scales, s)
		for i, v := range vals[blk : blk+tensor.BlockSize] {
			q := 8
			if s != 0 {
				q = int(math.Round(float64(v/s))) + 8
			}
			q = min(max(q, 0), 15)
			by := &t.Data[blk/2+i%16]
			if i < 16 {
				*by |= byte(q)
			} else {
				*by |= byte(q) << 4
			}
		}
	}
	return t
}

// tensorType is the IR type of a stored tensor.
func tensorType(t *tensor.Tensor) ir.Type {
	e, _ := ir.ElemOf(t.DType)
	dims := make([]ir.Dim, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = ir.C(d)
	}
	return ir.T(e, dims...)
}

// llamaWeights makes random weights for cfg the way runtime/model names
// them; quantize picks the stored form of each 2-D weight by its part
// name (nil: all f32).
func llamaWeights(cfg model.Config, seed uint64, form func(part string) string) store {
	r := rand.New(rand.NewPCG(seed, 7))
	s := store{}
	add := func(name, part string, sc, offset float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := randVals(r, n, sc)
		for i := range v {
			v[i] += float32(offset)
		}
		kind := "f32"
		if form != nil && len(shape) == 2 {
			kind = form(part)
		}
		switch kind {
		case "bf16":
			s[name] = bf16Tensor(name, v, shape...)
		case "q8_0":
			s[name] = q8Tensor(name, v, shape...)
		case "q4_0":
			s[name] = q4Tensor(name, v, shape...)
		default:
			s[name] = f32Tensor(name, v, shape...)
		}
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	add(model.TokenEmbd, "token_embd", 1, 0, cfg.Vocab, cfg.Dim)
	for l := range cfg.Layers {
		name := func(p string) string { return model.LayerTensor(l, p) }
		add(name("attn_norm.weight"), "attn_norm", 0.3, 1, cfg.Dim)
		add(name("attn_q.weight"), "attn_q", 0.2, 0, q, cfg.Dim)
		add(name("attn_k.weight"), "attn_k", 0.2, 0, kv, cfg.Dim)
		add(name("attn_v.weight"), "attn_v", 0.2, 0, kv, cfg.Dim)
		if cfg.QKVBias {
			add(name("attn_q.bias"), "", 0.1, 0, q)
			add(name("attn_k.bias"), "", 0.1, 0, kv)
			add(name("attn_v.bias"), "", 0.1, 0, kv)
		}
		add(name("attn_output.weight"), "attn_output", 0.1, 0, cfg.Dim, q)
		if cfg.OutputBias {
			add(name("attn_output.bias"), "", 0.1, 0, cfg.Dim)
		}
		add(name("ffn_norm.weight"), "ffn_norm", 0.3, 1, cfg.Dim)
		add(name("ffn_gate.weight"), "ffn_gate", 0.2, 0, cfg.Hidden, cfg.Dim)
		add(name("ffn_up.weight"), "ffn_up", 0.2, 0, cfg.Hidden, cfg.Dim)
		add(name("ffn_down.weight"), "ffn_down", 0.1, 0, cfg.Dim, cfg.Hidden)
	}
	add(model.OutputNorm, "output_norm", 0.3, 1, cfg.Dim)
	if !cfg.Tied {
		add(model.Output, "output", 0.2, 0, cfg.Vocab, cfg.Dim)
	}
	return s
}

// lowerLlama builds, by hand, the module the frontend lowers a Llama-family
// model to: weights declared with their stored types, a K and V state per
// layer, and three functions on tokens i32[rows] and the start position:
// prefill (the last row's logits), decode (one token) and all (every row's
// logits).
func lowerLlama(t testing.TB, cfg model.Config, weights func(string) (*tensor.Tensor, error)) *ir.Module {
	t.Helper()
	m := ir.NewModule("llama")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.AddDim("ctx", cfg.SeqLen))
	declare := func(name string) {
		w, err := weights(name)
		must(err)
		_, err = m.AddWeight(name, tensorType(w))
		must(err)
	}
	declare(model.TokenEmbd)
	for l := range cfg.Layers {
		for _, p := range []string{"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight"} {
			declare(model.LayerTensor(l, p))
		}
		if cfg.QKVBias {
			for _, p := range []string{"attn_q.bias", "attn_k.bias", "attn_v.bias"} {
				declare(model.LayerTensor(l, p))
			}
		}
		declare(model.LayerTensor(l, "attn_output.weight"))
		if cfg.OutputBias {
			declare(model.LayerTensor(l, "attn_output.bias"))
		}
		for _, p := range []string{"ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"} {
			declare(model.LayerTensor(l, p))
		}
	}
	declare(model.OutputNorm)
	cls := model.Output
	if cfg.Tied {
		cls = model.TokenEmbd
	} else {
		declare(model.Output)
	}
	kvDim := cfg.KVHeads * cfg.HeadDim
	for l := range cfg.Layers {
		for _, kv := range []string{"k", "v"} {
			_, err := m.AddState(fmt.Sprintf("kv.%d.%s", l, kv), ir.T(ir.F32, ir.S("ctx"), ir.C(kvDim)))
			must(err)
		}
	}
	for _, fn := range []struct {
		name string
		rows ir.Dim
		last bool
	}{{"prefill", ir.S("seq"), true}, {"decode", ir.C(1), false}, {"all", ir.S("seq"), false}} {
		f, err := m.AddFunc(fn.name)
		must(err)
		b := ir.NewBuilder(m, f)
		tokens := b.Param("tokens", ir.T(ir.I32, fn.rows))
		pos := b.Param("pos", ir.T(ir.I32))
		x := b.Embed(tokens, model.TokenEmbd)
		rope := func(heads int) ir.Rope {
			return ir.Rope{Heads: heads, HeadDim: cfg.HeadDim, Theta: cfg.RopeTheta, Layout: string(cfg.RopeLayout)}
		}
		for l := range cfg.Layers {
			p := func(part string) string { return model.LayerTensor(l, part) }
			bias := func(part string, on bool) []string {
				if on {
					return []string{p(part)}
				}
				return nil
			}
			h := b.RMSNorm(x, p("attn_norm.weight"), cfg.NormEps)
			q := b.MatMul(h, p("attn_q.weight"), bias("attn_q.bias", cfg.QKVBias)...)
			k := b.MatMul(h, p("attn_k.weight"), bias("attn_k.bias", cfg.QKVBias)...)
			v := b.MatMul(h, p("attn_v.weight"), bias("attn_v.bias", cfg.QKVBias)...)
			q = b.Rope(q, pos, rope(cfg.Heads))
			k = b.Rope(k, pos, rope(cfg.KVHeads))
			a := b.Attention(q, k, v, pos, fmt.Sprintf("kv.%d.k", l), fmt.Sprintf("kv.%d.v", l), cfg.Heads, cfg.KVHeads, cfg.HeadDim)
			x = b.Add(x, b.MatMul(a, p("attn_output.weight"), bias("attn_output.bias", cfg.OutputBias)...))
			h = b.RMSNorm(x, p("ffn_norm.weight"), cfg.NormEps)
			g := b.Silu(b.MatMul(h, p("ffn_gate.weight")))
			u := b.MatMul(h, p("ffn_up.weight"))
			x = b.Add(x, b.MatMul(b.Mul(g, u), p("ffn_down.weight")))
		}
		x = b.RMSNorm(x, model.OutputNorm, cfg.NormEps)
		logits := b.MatMul(x, cls)
		if fn.last {
			logits = b.Slice(logits, 0, -1)
		}
		b.Return(b.Name(logits, "logits"))
		must(b.Err())
	}
	must(ir.Verify(m))
	return m
}

// newInterp builds an interpreter or fails the test.
func newInterp(t testing.TB, m *ir.Module, weights func(string) (*tensor.Tensor, error)) *interp.Interp {
	t.Helper()
	ip, err := interp.New(m, weights)
	if err != nil {
		t.Fatalf("interp.New: %v", err)
	}
	return ip
}

// call runs fn and returns its first result's f32 data.
func call(t testing.TB, ip *interp.Interp, fn string, args ...interp.Value) []float32 {
	t.Helper()
	out, err := ip.Call(fn, args...)
	if err != nil {
		t.Fatalf("Call %s: %v", fn, err)
	}
	return out[0].F32
}

// sameBits reports the first index where a and b differ in bits, or -1.
func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// wantBits fails the test when got and want differ in any bit.
func wantBits(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if i := sameBits(got, want); i >= 0 {
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
		}
		t.Fatalf("%s: element %d is %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

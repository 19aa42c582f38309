package model

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// Model is a loaded Llama-family decoder with its KV cache: the pure-Go
// fp32 reference forward pass. It is not safe for concurrent use.
type Model struct {
	cfg    Config
	embd   *kernels.Matrix
	layers []layer
	norm   []float32
	cls    *kernels.Matrix // the embedding when cfg.Tied

	// The KV cache, per layer SeqLen x kvDim, and how many positions of it
	// hold valid entries (attention never reads past them).
	kcache, vcache [][]float32
	filled         int

	// Activations, allocated once.
	x, xb, xb2, q, att, hb, hb2, scores, cos, sin, logits []float32
}

// layer holds one transformer block's weights.
type layer struct {
	attnNorm, ffnNorm []float32
	wq, wk, wv, wo    *kernels.Matrix
	bq, bk, bv        []float32 // nil unless QKVBias
	bo                []float32 // nil unless OutputBias
	gate, up, down    *kernels.Matrix
}

// New builds a model from cfg, fetching every tensor by its canonical name
// (see config.go) through get. F32 weights are used in place (not copied);
// F16, BF16, Q8_0 and Q4_0 weights stay in their form and are dequantized as
// they are read. It allocates the KV cache for cfg.SeqLen positions: lower
// cfg.SeqLen to bound that memory.
func New(cfg Config, get func(name string) (*tensor.Tensor, error)) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, omexerr.Modelf("model.bad_config", "invalid model configuration").Wrap(err)
	}
	fetch := func(name string) (*tensor.Tensor, error) {
		t, err := get(name)
		if err != nil {
			if _, ok := omexerr.As(err); ok {
				return nil, err
			}
			return nil, omexerr.Modelf("model.missing_tensor", "cannot read tensor %s", name).WithTensor(name).Wrap(err)
		}
		return t, nil
	}
	mat := func(name string, rows, cols int) (*kernels.Matrix, error) {
		t, err := fetch(name)
		if err != nil {
			return nil, err
		}
		return kernels.NewMatrix(t, name, rows, cols)
	}
	vec := func(name string, n int) ([]float32, error) {
		t, err := fetch(name)
		if err != nil {
			return nil, err
		}
		return kernels.Vector(t, name, n)
	}

	qDim := cfg.Heads * cfg.HeadDim
	kvDim := cfg.KVHeads * cfg.HeadDim
	m := &Model{cfg: cfg, layers: make([]layer, cfg.Layers)}
	var err error
	if m.embd, err = mat(TokenEmbd, cfg.Vocab, cfg.Dim); err != nil {
		return nil, err
	}
	for l := range m.layers {
		L := &m.layers[l]
		name := func(part string) string { return LayerTensor(l, part) }
		if L.attnNorm, err = vec(name("attn_norm.weight"), cfg.Dim); err != nil {
			return nil, err
		}
		if L.wq, err = mat(name("attn_q.weight"), qDim, cfg.Dim); err != nil {
			return nil, err
		}
		if L.wk, err = mat(name("attn_k.weight"), kvDim, cfg.Dim); err != nil {
			return nil, err
		}
		if L.wv, err = mat(name("attn_v.weight"), kvDim, cfg.Dim); err != nil {
			return nil, err
		}
		if cfg.QKVBias {
			if L.bq, err = vec(name("attn_q.bias"), qDim); err != nil {
				return nil, err
			}
			if L.bk, err = vec(name("attn_k.bias"), kvDim); err != nil {
				return nil, err
			}
			if L.bv, err = vec(name("attn_v.bias"), kvDim); err != nil {
				return nil, err
			}
		}
		if L.wo, err = mat(name("attn_output.weight"), cfg.Dim, qDim); err != nil {
			return nil, err
		}
		if cfg.OutputBias {
			if L.bo, err = vec(name("attn_output.bias"), cfg.Dim); err != nil {
				return nil, err
			}
		}
		if L.ffnNorm, err = vec(name("ffn_norm.weight"), cfg.Dim); err != nil {
			return nil, err
		}
		if L.gate, err = mat(name("ffn_gate.weight"), cfg.Hidden, cfg.Dim); err != nil {
			return nil, err
		}
		if L.up, err = mat(name("ffn_up.weight"), cfg.Hidden, cfg.Dim); err != nil {
			return nil, err
		}
		if L.down, err = mat(name("ffn_down.weight"), cfg.Dim, cfg.Hidden); err != nil {
			return nil, err
		}
	}
	if m.norm, err = vec(OutputNorm, cfg.Dim); err != nil {
		return nil, err
	}
	if cfg.Tied {
		m.cls = m.embd
	} else if m.cls, err = mat(Output, cfg.Vocab, cfg.Dim); err != nil {
		return nil, err
	}

	// The cache is the one allocation sized by SeqLen rather than by the
	// weights; refuse a size that overflows instead of letting make panic.
	perLayer := cfg.SeqLen * kvDim
	if bytes := 8 * float64(cfg.SeqLen) * float64(kvDim) * float64(cfg.Layers); bytes > 1<<50 {
		return nil, omexerr.Resourcef("model.kv_cache_too_large", "KV cache of %d positions x %d values x %d layers needs %.3g bytes", cfg.SeqLen, kvDim, cfg.Layers, bytes)
	}
	m.kcache = make([][]float32, cfg.Layers)
	m.vcache = make([][]float32, cfg.Layers)
	for l := range m.kcache {
		m.kcache[l] = make([]float32, perLayer)
		m.vcache[l] = make([]float32, perLayer)
	}
	m.x = make([]float32, cfg.Dim)
	m.xb = make([]float32, cfg.Dim)
	m.xb2 = make([]float32, cfg.Dim)
	m.q = make([]float32, qDim)
	m.att = make([]float32, qDim)
	m.hb = make([]float32, cfg.Hidden)
	m.hb2 = make([]float32, cfg.Hidden)
	m.scores = make([]float32, cfg.SeqLen)
	m.cos = make([]float32, cfg.HeadDim/2)
	m.sin = make([]float32, cfg.HeadDim/2)
	m.logits = make([]float32, cfg.Vocab)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Reset forgets the cached context, so the next Forward must start at
// position 0.
func (m *Model) Reset() { m.filled = 0 }

// Forward runs token at position pos and returns the next-token logits, a
// buffer owned by the model and overwritten by the next call. Positions
// 0..pos-1 must already be in the cache (pos may rewind to an earlier
// position, which drops everything after it).
func (m *Model) Forward(token, pos int) ([]float32, error) {
	c := &m.cfg
	if token < 0 || token >= c.Vocab {
		return nil, omexerr.Inputf("input.token_out_of_vocab", "token id %d is outside the vocabulary (0..%d)", token, c.Vocab-1)
	}
	if pos < 0 || pos >= c.SeqLen {
		return nil, omexerr.Executionf("execution.context_full", "position %d is outside the context window (0..%d)", pos, c.SeqLen-1)
	}
	if pos > m.filled {
		return nil, omexerr.Executionf("execution.position_gap", "position %d skips ahead of the cached context (%d positions)", pos, m.filled)
	}

	hd := c.HeadDim
	kvDim := c.KVHeads * hd
	qDim := c.Heads * hd
	x, xb := m.x, m.xb
	m.embd.Row(token, x)
	kernels.RopeTable(m.cos, m.sin, pos, hd, c.RopeTheta)

	for l := range m.layers {
		L := &m.layers[l]
		kernels.RMSNorm(xb, x, L.attnNorm, c.NormEps)
		k := m.kcache[l][pos*kvDim : (pos+1)*kvDim]
		v := m.vcache[l][pos*kvDim : (pos+1)*kvDim]
		L.wq.MatVec(m.q, xb)
		L.wk.MatVec(k, xb)
		L.wv.MatVec(v, xb)
		if L.bq != nil {
			kernels.Add(m.q, L.bq)
			kernels.Add(k, L.bk)
			kernels.Add(v, L.bv)
		}
		// Validate admits only the two layouts, so Rope always applies.
		kernels.Rope(m.q, m.cos, m.sin, hd, string(c.RopeLayout))
		kernels.Rope(k, m.cos, m.sin, hd, string(c.RopeLayout))

		kernels.Attention(m.att, m.q, m.kcache[l], m.vcache[l], c.Heads, c.KVHeads, hd, pos+1, m.scores)
		L.wo.MatVec(m.xb2, m.att[:qDim])
		if L.bo != nil {
			kernels.Add(m.xb2, L.bo)
		}
		kernels.Add(x, m.xb2)

		kernels.RMSNorm(xb, x, L.ffnNorm, c.NormEps)
		L.gate.MatVec(m.hb, xb)
		L.up.MatVec(m.hb2, xb)
		kernels.SiLUMul(m.hb, m.hb2)
		L.down.MatVec(xb, m.hb)
		kernels.Add(x, xb)
	}
	kernels.RMSNorm(x, x, m.norm, c.NormEps)
	m.cls.MatVec(m.logits, x)
	m.filled = pos + 1
	return m.logits, nil
}

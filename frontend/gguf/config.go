package gguf

import (
	"maps"
	"slices"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// Config returns the model shape read at open; it is the zero Config when
// ModelConfig fails (e.g. a vocab-only file).
func (g *File) Config() model.Config { return g.cfg }

// ModelConfig returns the model shape, or why the file does not hold a model
// this runtime can run: unsupported architecture, missing or inconsistent
// hyperparameters, missing or misshapen tensors, unsupported tensor types.
func (g *File) ModelConfig() (model.Config, error) { return g.cfg, g.cfgErr }

// ropeLayouts lists the supported architectures. llama.cpp's converters
// permute Llama's Q/K rows so rope rotates interleaved pairs (ggml's normal
// rope); Qwen2 runs NEOX rope on the weights as Hugging Face stores them.
var ropeLayouts = map[string]model.RopeLayout{
	"llama": model.RopeInterleaved,
	"qwen2": model.RopeHalfSplit,
}

// cfgErrorf is a ModelError about the model hyperparameters.
func (g *File) cfgErrorf(format string, args ...any) *omexerr.Error {
	return omexerr.Modelf("model.bad_config", format, args...).WithFile(g.name)
}

// buildConfig reads the {arch}.* hyperparameters and checks the tensors
// against them.
func (g *File) buildConfig() (model.Config, error) {
	if len(g.tensors) == 0 {
		return model.Config{}, omexerr.Modelf("model.no_tensors", "the file holds no tensors (a vocab-only GGUF?)").WithFile(g.name)
	}
	arch, ok := g.String("general.architecture")
	if !ok {
		return model.Config{}, g.cfgErrorf("general.architecture is missing")
	}
	layout, ok := ropeLayouts[arch]
	if !ok {
		return model.Config{}, omexerr.Modelf("model.unsupported_architecture",
			"architecture %q is not supported (llama and qwen2 are)", arch).WithFile(g.name)
	}
	var c model.Config
	c.RopeLayout = layout
	var err error
	get := func(key string, def int) int {
		if err != nil {
			return 0
		}
		full := arch + "." + key
		v, ok := g.Uint(full)
		if !ok {
			if _, present := g.Lookup(full); present || def < 0 {
				err = g.cfgErrorf("%s is missing or not a non-negative integer", full)
			}
			return def
		}
		if v > 1<<32 {
			err = g.cfgErrorf("%s = %d is absurd", full, v)
			return 0
		}
		return int(v)
	}
	c.Dim = get("embedding_length", -1)
	c.Layers = get("block_count", -1)
	c.Hidden = get("feed_forward_length", -1)
	c.Heads = get("attention.head_count", -1)
	c.KVHeads = get("attention.head_count_kv", c.Heads)
	c.SeqLen = get("context_length", -1)
	keyLen := get("attention.key_length", 0)
	valLen := get("attention.value_length", 0)
	ropeDims := get("rope.dimension_count", 0)
	if err != nil {
		return model.Config{}, err
	}
	if c.Heads <= 0 {
		return model.Config{}, g.cfgErrorf("%s.attention.head_count is %d", arch, c.Heads)
	}
	c.HeadDim = keyLen
	if c.HeadDim == 0 {
		if c.Dim%c.Heads != 0 {
			return model.Config{}, g.cfgErrorf("embedding length %d is not a multiple of %d heads", c.Dim, c.Heads)
		}
		c.HeadDim = c.Dim / c.Heads
	}
	if valLen != 0 && valLen != c.HeadDim {
		return model.Config{}, g.cfgErrorf("value head size %d differs from key head size %d", valLen, c.HeadDim)
	}
	if ropeDims != 0 && ropeDims != c.HeadDim {
		return model.Config{}, g.cfgErrorf("rope rotates %d of %d head dimensions; partial rotary is not supported", ropeDims, c.HeadDim)
	}
	theta, ok := g.Float(arch + ".rope.freq_base")
	if !ok {
		theta = 10000
	}
	eps, ok := g.Float(arch + ".attention.layer_norm_rms_epsilon")
	if !ok {
		return model.Config{}, g.cfgErrorf("%s.attention.layer_norm_rms_epsilon is missing", arch)
	}
	c.RopeTheta, c.NormEps = float32(theta), float32(eps)

	emb, ok := g.TensorInfo(model.TokenEmbd)
	if !ok || len(emb.Dims) != 2 {
		return model.Config{}, omexerr.Modelf("model.missing_tensor", "no 2-D %s tensor", model.TokenEmbd).WithFile(g.name)
	}
	c.Vocab = int(emb.Dims[1])
	if tokens, ok := g.Strings("tokenizer.ggml.tokens"); ok && len(tokens) != c.Vocab {
		return model.Config{}, g.cfgErrorf("the tokenizer has %d tokens but %s has %d rows", len(tokens), model.TokenEmbd, c.Vocab)
	}
	_, hasOutput := g.TensorInfo(model.Output)
	c.Tied = !hasOutput
	_, c.QKVBias = g.TensorInfo(model.LayerTensor(0, "attn_q.bias"))
	if err := c.Validate(); err != nil {
		return model.Config{}, g.cfgErrorf("%v", err)
	}
	if err := g.checkTensors(&c); err != nil {
		return model.Config{}, err
	}
	return c, nil
}

// checkTensors checks that every tensor the config implies is present with
// its canonical shape and a convertible type, so an import fails before it
// writes anything.
func (g *File) checkTensors(c *model.Config) error {
	want := map[string][]int{
		model.TokenEmbd:  {c.Vocab, c.Dim},
		model.OutputNorm: {c.Dim},
	}
	if !c.Tied {
		want[model.Output] = []int{c.Vocab, c.Dim}
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for l := 0; l < c.Layers; l++ {
		layer := map[string][]int{
			"attn_norm.weight":   {c.Dim},
			"attn_q.weight":      {q, c.Dim},
			"attn_k.weight":      {kv, c.Dim},
			"attn_v.weight":      {kv, c.Dim},
			"attn_output.weight": {c.Dim, q},
			"ffn_norm.weight":    {c.Dim},
			"ffn_gate.weight":    {c.Hidden, c.Dim},
			"ffn_up.weight":      {c.Hidden, c.Dim},
			"ffn_down.weight":    {c.Dim, c.Hidden},
		}
		if c.QKVBias {
			layer["attn_q.bias"] = []int{q}
			layer["attn_k.bias"] = []int{kv}
			layer["attn_v.bias"] = []int{kv}
		}
		for part, shape := range layer {
			want[model.LayerTensor(l, part)] = shape
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		shape := want[name]
		t, ok := g.TensorInfo(name)
		if !ok {
			return omexerr.Modelf("model.missing_tensor", "tensor %s is missing", name).WithFile(g.name).WithTensor(name)
		}
		if !slices.Equal(t.Shape(), shape) {
			return omexerr.Modelf("model.bad_shape", "tensor has shape %v, the config implies %v", t.Shape(), shape).
				WithFile(g.name).WithTensor(name)
		}
	}
	for _, t := range g.tensors {
		if _, ok := dtypeOf(t.Type); !ok {
			return unsupportedType(g.name, t)
		}
	}
	return nil
}

// dtypeOf maps the ggml types this reader converts to OMEX dtypes.
func dtypeOf(t GGMLType) (tensor.DType, bool) {
	switch t {
	case GGMLF32:
		return tensor.F32, true
	case GGMLF16:
		return tensor.F16, true
	case GGMLBF16:
		return tensor.BF16, true
	case GGMLQ8_0:
		return tensor.Q8_0, true
	case GGMLQ4_0:
		return tensor.Q4_0, true
	}
	return 0, false
}

// unsupportedType is the error for a tensor whose ggml type has no OMEX dtype.
func unsupportedType(file string, t TensorInfo) *omexerr.Error {
	return omexerr.Modelf("model.unsupported_dtype",
		"ggml type %s is not supported (F32, F16, BF16, Q8_0 and Q4_0 are); requantize the model", t.Type).
		WithFile(file).WithTensor(t.Name)
}

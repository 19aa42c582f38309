package hf

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
)

// arch describes one supported Hugging Face architecture class.
type arch struct {
	name      string // OMEX's architecture name
	qkvBias   bool   // q/k/v projections always carry biases (Qwen2)
	maxPosDef int    // max_position_embeddings default of the HF config class
}

// architectures are the supported "architectures" entries of config.json.
var architectures = map[string]arch{
	"LlamaForCausalLM":   {name: "llama", maxPosDef: 2048},
	"MistralForCausalLM": {name: "mistral", maxPosDef: 4096 * 32},
	"Qwen2ForCausalLM":   {name: "qwen2", qkvBias: true, maxPosDef: 32768},
}

// modelTypes maps config.json's model_type to an architecture class, for
// configs that omit "architectures".
var modelTypes = map[string]string{
	"llama":   "LlamaForCausalLM",
	"mistral": "MistralForCausalLM",
	"qwen2":   "Qwen2ForCausalLM",
}

// hfConfig is what config.json says, reduced to what OMEX uses.
type hfConfig struct {
	model.Config
	HFArch     string // e.g. "LlamaForCausalLM"
	Arch       string // "llama", "mistral" or "qwen2"
	NameOrPath string // _name_or_path, when present
	BOS, EOS   []int  // bos_token_id / eos_token_id
	// Notes are things about the config a user should know, such as a
	// sliding window that shortened the context.
	Notes []string
}

// parseConfig reads a config.json. path names the file in errors.
func parseConfig(data []byte, path string) (*hfConfig, error) {
	bad := func(err error) error {
		return omexerr.Modelf("model.bad_config", "%v", err).WithFile(path)
	}
	f, err := parseFields(data)
	if err != nil {
		return nil, omexerr.Modelf("model.bad_config", "config is not a JSON object").WithFile(path).Wrap(err)
	}
	c := &hfConfig{}
	if c.HFArch, err = architecture(f); err != nil {
		return nil, bad(err)
	}
	a, ok := architectures[c.HFArch]
	if !ok {
		return nil, omexerr.Modelf("model.unsupported_architecture",
			"architecture %q is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)", c.HFArch).WithFile(path)
	}
	c.Arch = a.name
	if err := c.readShape(f, a); err != nil {
		return nil, bad(err)
	}
	if err := c.readRope(f); err != nil {
		return nil, omexerr.Modelf("model.unsupported_rope", "%v", err).WithFile(path)
	}
	if err := c.readFeatures(f, a); err != nil {
		return nil, omexerr.Modelf("model.unsupported_feature", "%v", err).WithFile(path)
	}
	if c.NameOrPath, err = f.str("_name_or_path"); err != nil {
		return nil, bad(err)
	}
	if c.BOS, err = f.ids("bos_token_id"); err != nil {
		return nil, bad(err)
	}
	if c.EOS, err = f.ids("eos_token_id"); err != nil {
		return nil, bad(err)
	}
	if err := c.Validate(); err != nil {
		return nil, omexerr.Modelf("model.bad_config", "config describes no runnable model").WithFile(path).Wrap(err)
	}
	return c, nil
}

// architecture returns the model class: the first "architectures" entry,
// or the class of model_type when the list is absent.
func architecture(f fields) (string, error) {
	if f.has("architectures") {
		var list []string
		if err := json.Unmarshal(f["architectures"], &list); err != nil || len(list) == 0 {
			return "", fmt.Errorf("architectures is not a non-empty list of strings")
		}
		return list[0], nil
	}
	mt, err := f.str("model_type")
	if err != nil {
		return "", err
	}
	if cls, ok := modelTypes[mt]; ok {
		return cls, nil
	}
	if mt == "" {
		return "", fmt.Errorf("config names neither architectures nor model_type")
	}
	return mt, nil
}

// readShape reads the dimensions, with the defaults of the HF config
// classes where those have one that checkpoints rely on.
func (c *hfConfig) readShape(f fields, a arch) error {
	required := []struct {
		key string
		dst *int
	}{
		{"hidden_size", &c.Dim},
		{"intermediate_size", &c.Hidden},
		{"num_hidden_layers", &c.Layers},
		{"num_attention_heads", &c.Heads},
		{"vocab_size", &c.Vocab},
	}
	for _, r := range required {
		if !f.has(r.key) {
			return fmt.Errorf("%s is missing", r.key)
		}
		v, err := f.integer(r.key, 0)
		if err != nil {
			return err
		}
		if v <= 0 {
			return fmt.Errorf("%s = %d is not positive", r.key, v)
		}
		*r.dst = v
	}
	var err error
	if c.KVHeads, err = f.integer("num_key_value_heads", c.Heads); err != nil {
		return err
	}
	if c.HeadDim, err = f.integer("head_dim", c.Dim/c.Heads); err != nil {
		return err
	}
	// Bound the products the tensor shapes use, so no later size
	// arithmetic can overflow on a hostile config.
	if c.Heads > 1<<16 || c.KVHeads > 1<<16 || c.HeadDim > 1<<16 {
		return fmt.Errorf("absurd attention shape: %d heads, %d kv heads, head_dim %d", c.Heads, c.KVHeads, c.HeadDim)
	}
	if c.SeqLen, err = f.integer("max_position_embeddings", a.maxPosDef); err != nil {
		return err
	}
	eps, err := f.float("rms_norm_eps", 1e-6)
	if err != nil {
		return err
	}
	if eps <= 0 || eps >= 1 {
		return fmt.Errorf("rms_norm_eps = %g is outside (0, 1)", eps)
	}
	c.NormEps = float32(eps)
	if c.Tied, err = f.boolean("tie_word_embeddings", false); err != nil {
		return err
	}
	c.QKVBias = a.qkvBias
	return nil
}

// readRope reads rope_theta and rejects any rotary scaling: the runtime
// implements plain RoPE only, and ignoring a scaling would silently give
// wrong outputs. Newer transformers put both in "rope_parameters".
func (c *hfConfig) readRope(f fields) error {
	c.RopeLayout = model.RopeHalfSplit
	theta, err := f.float("rope_theta", 10000)
	if err != nil {
		return err
	}
	for _, key := range []string{"rope_scaling", "rope_parameters"} {
		rs, err := f.object(key)
		if err != nil {
			return err
		}
		if rs == nil {
			continue
		}
		typ, err := rs.str("rope_type")
		if err != nil {
			return err
		}
		if typ == "" {
			if typ, err = rs.str("type"); err != nil {
				return err
			}
		}
		if typ != "default" && !(typ == "" && key == "rope_parameters") {
			if typ == "" {
				typ = "(untyped)"
			}
			return fmt.Errorf("%s type %q is not supported (only plain RoPE)", key, typ)
		}
		if key == "rope_parameters" {
			if theta, err = rs.float("rope_theta", theta); err != nil {
				return err
			}
		}
	}
	if theta <= 0 || theta > math.MaxFloat32 {
		return fmt.Errorf("rope_theta = %g is out of range", theta)
	}
	c.RopeTheta = float32(theta)
	return nil
}

// readFeatures handles the options that change the computation: biases,
// the activation and sliding-window attention.
func (c *hfConfig) readFeatures(f fields, a arch) error {
	if a.name == "llama" {
		bias, err := f.boolean("attention_bias", false)
		if err != nil {
			return err
		}
		c.QKVBias, c.OutputBias = bias, bias
		mlpBias, err := f.boolean("mlp_bias", false)
		if err != nil {
			return err
		}
		if mlpBias {
			return fmt.Errorf("mlp_bias is not supported")
		}
	}
	act, err := f.str("hidden_act")
	if err != nil {
		return err
	}
	if act != "" && act != "silu" {
		return fmt.Errorf("hidden_act %q is not supported (only silu)", act)
	}
	// A sliding window only matters past its length: capping the context
	// there keeps full attention exact, where ignoring it would not be.
	window, err := f.integer("sliding_window", 0)
	if err != nil {
		return err
	}
	active := window > 0 && a.name == "mistral"
	if a.name == "qwen2" {
		if active, err = f.boolean("use_sliding_window", false); err != nil {
			return err
		}
		active = active && window > 0
	}
	if active && window < c.SeqLen {
		c.Notes = append(c.Notes, fmt.Sprintf("sliding_window %d: context limited to %d tokens (was %d) so full attention stays exact", window, window, c.SeqLen))
		c.SeqLen = window
	} else if window > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("sliding_window %d not in effect", window))
	}
	return nil
}

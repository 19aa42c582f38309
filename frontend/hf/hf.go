// Package hf opens a Hugging Face model directory (config.json, safetensors
// weights, tokenizer.json) of the Llama family as a frontend.Source.
package hf

import (
	"os"
	"path/filepath"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// Model is an opened Hugging Face model directory. Its tensors use the
// canonical names of runtime/model; the weights are not permuted, so the
// config's RopeLayout is model.RopeHalfSplit.
type Model struct {
	dir     string
	cfg     *hfConfig
	meta    frontend.Meta
	w       *weights
	tensors []tensor.Info
	where   map[string]located
	tok     tokenizer.Spec
	tokErr  error
}

// Model is a frontend.Source.
var _ frontend.Source = (*Model)(nil)

// Open reads the directory's config.json, checks that its safetensors
// weights hold every tensor the config calls for with the right shape and
// dtype, and loads its tokenizer. A tokenizer that fails to load does not
// fail Open (the weights may still be wanted); TokenizerSpec reports it.
func Open(dir string) (*Model, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, omexerr.Inputf("input.not_found", "cannot open the model directory").WithFile(dir).Wrap(err)
	}
	if !st.IsDir() {
		return nil, omexerr.Inputf("input.not_a_directory", "a Hugging Face model is a directory").WithFile(dir)
	}
	cfgPath := filepath.Join(dir, "config.json")
	data, err := readSmallFile(cfgPath)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(data, cfgPath)
	if err != nil {
		return nil, err
	}
	w, err := openWeights(dir)
	if err != nil {
		return nil, err
	}
	infos, where, err := layout(cfg, w)
	if err != nil {
		w.close()
		return nil, err
	}
	m := &Model{dir: dir, cfg: cfg, meta: meta(dir, cfg), w: w, tensors: infos, where: where}
	m.tok, m.tokErr = loadTokenizer(dir, cfg)
	return m, nil
}

// Meta describes the model: its name (_name_or_path or the directory
// name), architecture, and any notes about the import in Description.
func (m *Model) Meta() frontend.Meta { return m.meta }

// Config returns the model's shape.
func (m *Model) Config() model.Config { return m.cfg.Config }

// Tokenizer returns the tokenizer loaded at Open, or a zero Spec (no
// tokens) when it failed to load; TokenizerSpec gives the reason.
func (m *Model) Tokenizer() tokenizer.Spec { return m.tok }

// TokenizerSpec returns the tokenizer loaded at Open and the error, if any,
// that loading it met.
func (m *Model) TokenizerSpec() (tokenizer.Spec, error) { return m.tok, m.tokErr }

// Tensors lists the model's tensors in canonical names and order.
func (m *Model) Tensors() []tensor.Info {
	out := make([]tensor.Info, len(m.tensors))
	for i, t := range m.tensors {
		out[i] = tensor.Info{Name: t.Name, DType: t.DType, Shape: append([]int{}, t.Shape...)}
	}
	return out
}

// ReadTensor reads one tensor by canonical name, as stored (F32, F16 or
// BF16 little-endian).
func (m *Model) ReadTensor(name string) (*tensor.Tensor, error) {
	loc, ok := m.where[name]
	if !ok {
		return nil, omexerr.Modelf("model.missing_tensor", "no tensor %q in the model", name).WithFile(m.dir).WithTensor(name)
	}
	t, err := loc.file.ReadTensor(loc.info.Name)
	if err != nil {
		return nil, err
	}
	t.Name = name
	return t, nil
}

// Close releases the weight files.
func (m *Model) Close() error { return m.w.close() }

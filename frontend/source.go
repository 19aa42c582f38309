// Package frontend brings models into OMEX: the importers for each source
// format share the Source interface, and Import writes any Source as an OMEX
// package.
package frontend

import (
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// Meta is descriptive information about a model, as far as its source file
// states it.
type Meta struct {
	Name         string // e.g. "stories260K"
	Architecture string // e.g. "llama", "mistral", "qwen2"
	SourceFormat string // "gguf", "safetensors", "llama2c"
	License      string
	Description  string
	Version      string
}

// Source is an opened model file (or directory) in some foreign format. It
// reads one tensor at a time so an import needs memory near the largest
// tensor, not the model. Tensors use the canonical names and [out, in]
// shapes documented in runtime/model.
type Source interface {
	Meta() Meta
	Config() model.Config
	Tokenizer() tokenizer.Spec
	Tensors() []tensor.Info
	ReadTensor(name string) (*tensor.Tensor, error)
	Close() error
}

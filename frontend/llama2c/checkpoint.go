// Package llama2c reads Andrej Karpathy's llama2.c checkpoints (run.c's
// legacy fp32 file, export.py's version 1 fp32 and version 2 int8 files) as a
// frontend.Source.
package llama2c

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// Checkpoint is an opened llama2.c checkpoint. It holds only the header and
// the place of every tensor; ReadTensor reads one tensor from the file when
// asked, so the model itself is never loaded whole.
type Checkpoint struct {
	r       io.ReaderAt
	closer  io.Closer // the file Open opened; nil after Parse
	name    string    // file name for errors and Meta
	hdr     header
	tok     tokenizer.Spec
	entries []entry // in canonical order (see canonicalOrder)
	byName  map[string]*entry
}

var _ frontend.Source = (*Checkpoint)(nil)

// Meta names the model after its file and states the format.
func (c *Checkpoint) Meta() frontend.Meta {
	base := filepath.Base(c.name)
	return frontend.Meta{
		Name:         strings.TrimSuffix(base, filepath.Ext(base)),
		Architecture: "llama",
		SourceFormat: "llama2c",
		Description:  c.hdr.describe(),
	}
}

// Config returns the model shape from the header with llama2.c's fixed
// choices: interleaved RoPE with theta 10000 and RMSNorm epsilon 1e-5.
func (c *Checkpoint) Config() model.Config { return c.hdr.config() }

// Tokenizer returns the tokenizer given to Parse or loaded by Open.
func (c *Checkpoint) Tokenizer() tokenizer.Spec { return c.tok }

// Tensors lists every weight with its canonical name, dtype and [out, in]
// shape: Q8_0 for int8 tensors whose groups fit 32-element row blocks, F32
// otherwise.
func (c *Checkpoint) Tensors() []tensor.Info {
	out := make([]tensor.Info, len(c.entries))
	for i, e := range c.entries {
		out[i] = tensor.Info{Name: e.name, DType: e.dtype(), Shape: append([]int(nil), e.shape...)}
	}
	return out
}

// Close closes the file Open opened; after Parse it does nothing, as the
// reader belongs to the caller.
func (c *Checkpoint) Close() error {
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer = nil
	return err
}

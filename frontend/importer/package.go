package importer

import (
	"path/filepath"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// Package is an opened OMEX package seen as a Source, so everything that
// reads a foreign model (run, inspect, re-import) reads packages too.
type Package struct {
	*format.Package
	cfg  model.Config
	spec tokenizer.Spec
}

// OpenPackage opens the OMEX package at dir.
func OpenPackage(dir string) (*Package, error) {
	p, err := format.Open(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := configFromGraph(&p.Graph, filepath.Join(dir, format.GraphFile))
	if err != nil {
		return nil, err
	}
	return &Package{Package: p, cfg: cfg, spec: specFromPackage(&p.Tokenizer)}, nil
}

// Meta returns the package's metadata as the importers describe a model.
func (p *Package) Meta() frontend.Meta {
	m := &p.Metadata
	return frontend.Meta{Name: m.ModelName, Architecture: m.ModelArchitecture, SourceFormat: m.SourceFormat,
		License: m.License, Description: m.Description, Version: m.ModelVersion}
}

// Config returns the decoder shape stated by graph.json.
func (p *Package) Config() model.Config { return p.cfg }

// Tokenizer returns the package's tokenizer.
func (p *Package) Tokenizer() tokenizer.Spec { return p.spec }

// Tensors lists the stored tensors.
func (p *Package) Tensors() []tensor.Info { return p.Package.Tensors() }

// Close releases nothing: a package opens its weight files per read.
func (p *Package) Close() error { return nil }

package importer

import (
	"runtime/debug"
	"strings"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// ImportOptions control Import.
type ImportOptions struct {
	Overwrite bool // replace an existing package at the destination
	// Progress, when set, is called after each tensor is written with the
	// tensor's name and its size in bytes.
	Progress func(name string, bytes int64)
}

// Import writes src as an OMEX package at dir, streaming one tensor at a
// time. The package appears at dir only when complete (it is built in a
// temporary directory and renamed); on error nothing is left behind.
func Import(src frontend.Source, dir string, opt ImportOptions) error {
	cfg := src.Config()
	if err := cfg.Validate(); err != nil {
		return omexerr.Modelf("model.bad_config", "the model's configuration is unusable: %v", err)
	}
	spec := src.Tokenizer()
	if len(spec.Tokens) == 0 {
		return omexerr.Modelf("model.no_tokenizer", "the model has no tokenizer")
	}
	infos := src.Tensors()
	// Only what the graph uses is stored: a tied model whose source kept a
	// copy of the embedding as output.weight loses nothing.
	graphNames := map[string]bool{}
	meta := src.Meta()
	g, err := buildGraph(meta.Name, cfg, infos)
	if err != nil {
		return err
	}
	for _, n := range g.Nodes {
		for _, w := range n.Weights {
			graphNames[w.Name] = true
		}
	}
	var stored []tensor.Info
	for _, ti := range infos {
		if graphNames[ti.Name] {
			stored = append(stored, ti)
		}
	}

	var opts []format.Option
	if opt.Overwrite {
		opts = append(opts, format.Overwrite())
	}
	w, err := format.Create(dir, opts...)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	for _, ti := range stored {
		t, err := src.ReadTensor(ti.Name)
		if err != nil {
			return err
		}
		if err := w.WriteTensor(t, layerOf(ti.Name)); err != nil {
			return err
		}
		if opt.Progress != nil {
			opt.Progress(ti.Name, int64(len(t.Data))+4*int64(len(t.Scales)))
		}
	}
	weightBytes := format.WeightBytes(stored)
	minReq, recReq := format.ComputeRequirements(weightBytes, format.KVCache{
		Layers: cfg.Layers, KVHeads: cfg.KVHeads, HeadDim: cfg.HeadDim, ContextLength: cfg.SeqLen,
	})
	if err := w.SetMetadata(format.Metadata{
		ModelName:               meta.Name,
		ModelVersion:            meta.Version,
		ModelArchitecture:       meta.Architecture,
		Parameters:              parameters(stored),
		CreatedBy:               "omexc " + omexcVersion(),
		License:                 meta.License,
		Description:             meta.Description,
		SourceFormat:            meta.SourceFormat,
		HardwareTargets:         []string{"generic"},
		MinimumRequirements:     minReq,
		RecommendedRequirements: recReq,
	}); err != nil {
		return err
	}
	if err := w.SetGraph(g); err != nil {
		return err
	}
	if err := w.SetTokenizer(packageTokenizer(spec)); err != nil {
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	ok = true
	return nil
}

// layerOf picks the weight file of a canonical tensor name.
func layerOf(name string) int {
	switch {
	case name == model.TokenEmbd:
		return format.EmbeddingLayer
	case strings.HasPrefix(name, "blk."):
		var l int
		rest := name[len("blk."):]
		for i := 0; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			l = l*10 + int(rest[i]-'0')
		}
		return l
	}
	return format.HeadLayer
}

func parameters(infos []tensor.Info) int64 {
	var n int64
	for _, ti := range infos {
		p := int64(1)
		for _, d := range ti.Shape {
			p *= int64(d)
		}
		n += p
	}
	return n
}

// omexcVersion is the module version the importer was built as, for
// metadata's created_by.
func omexcVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

package exe

import (
	"encoding/json"
	"io"
	"runtime"
)

// info is what --info prints: where the executable came from, the plan of
// the IR it was built from, and what it holds and needs in memory.
type info struct {
	Program      string     `json:"program"`
	Compiler     string     `json:"compiler"`
	GoVersion    string     `json:"go_version"`
	Target       string     `json:"target"`
	GOOS         string     `json:"goos"`
	GOARCH       string     `json:"goarch"`
	Level        string     `json:"level,omitempty"`
	Backend      string     `json:"backend"`
	Model        string     `json:"model"`
	ModelSHA256  string     `json:"model_sha256"`
	Quant        string     `json:"quant"`
	WeightTypes  string     `json:"weight_types"`
	Flags        []string   `json:"build_flags"`
	Plan         []PlanFunc `json:"plan"`
	ArenaBytes   int64      `json:"arena_bytes"` // the largest planned arena: calls run one at a time
	WeightBytes  int64      `json:"weight_bytes"`
	Tensors      int        `json:"tensors"`
	KVCacheBytes int64      `json:"kv_cache_bytes"` // float32 keys and values for the whole context
	Context      int        `json:"context"`
	Vocab        int        `json:"vocab"`
	Layers       int        `json:"layers"`
	Dim          int        `json:"dim"`
	Mapped       bool       `json:"weights_mapped"` // memory-mapped (true) or read into memory
}

// writeInfo prints --info as indented JSON.
func writeInfo(w io.Writer, name string, f *Facts, b *Bundle) error {
	c := b.Config()
	in := info{
		Program: name, Compiler: f.Compiler, GoVersion: runtime.Version(), Target: f.Target, GOOS: f.GOOS, GOARCH: f.GOARCH,
		Level: f.Level, Backend: f.Backend, Model: f.Model, ModelSHA256: f.ModelSHA256, Quant: f.Quant, WeightTypes: f.WeightTypes, Flags: f.Flags,
		Plan: f.Plan, WeightBytes: b.WeightBytes(), Tensors: len(b.Index.Tensors),
		KVCacheBytes: 2 * 4 * int64(c.Layers) * int64(c.SeqLen) * int64(c.KVHeads*c.HeadDim),
		Context:      c.SeqLen, Vocab: c.Vocab, Layers: c.Layers, Dim: c.Dim, Mapped: b.Mapped,
	}
	if in.Plan == nil {
		in.Plan = []PlanFunc{}
	}
	if in.Flags == nil {
		in.Flags = []string{}
	}
	for _, p := range f.Plan {
		in.ArenaBytes = max(in.ArenaBytes, p.ArenaBytes)
	}
	out, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

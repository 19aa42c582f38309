package gguf

import (
	"testing"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// TestSyntheticConfigs builds small models of each supported layout and
// type and checks the derived config and every tensor read.
func TestSyntheticConfigs(t *testing.T) {
	cases := []struct {
		m    tinyModel
		want model.Config
	}{
		{tinyModel{arch: "llama", dim: 32, hidden: 64, layers: 2, heads: 4, kvHeads: 2, vocab: 8, typ: GGMLF32},
			model.Config{Dim: 32, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 8, Vocab: 8, SeqLen: 64,
				RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: true}},
		{tinyModel{arch: "qwen2", dim: 32, hidden: 64, layers: 1, heads: 4, kvHeads: 1, vocab: 8, bias: true, untied: true, typ: GGMLQ8_0},
			model.Config{Dim: 32, Hidden: 64, Layers: 1, Heads: 4, KVHeads: 1, HeadDim: 8, Vocab: 8, SeqLen: 64,
				RopeTheta: 10000, RopeLayout: model.RopeHalfSplit, NormEps: 1e-5, QKVBias: true}},
		{tinyModel{arch: "llama", dim: 64, hidden: 32, layers: 1, heads: 2, kvHeads: 2, vocab: 5, typ: GGMLQ4_0},
			model.Config{Dim: 64, Hidden: 32, Layers: 1, Heads: 2, KVHeads: 2, HeadDim: 32, Vocab: 5, SeqLen: 64,
				RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: true}},
		{tinyModel{arch: "llama", dim: 32, hidden: 32, layers: 1, heads: 4, kvHeads: 4, vocab: 4, typ: GGMLBF16},
			model.Config{Dim: 32, Hidden: 32, Layers: 1, Heads: 4, KVHeads: 4, HeadDim: 8, Vocab: 4, SeqLen: 64,
				RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: true}},
	}
	for _, c := range cases {
		g, err := parseBytes(tinyModelFile(c.m))
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.ModelConfig()
		if err != nil {
			t.Fatalf("%s %s: %v", c.m.arch, c.m.typ, err)
		}
		if got != c.want || g.Config() != c.want {
			t.Errorf("%s %s\n got %+v\nwant %+v", c.m.arch, c.m.typ, got, c.want)
		}
		for _, info := range g.Tensors() {
			tt, err := g.ReadTensor(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			want := tensor.F32
			if len(info.Shape) == 2 {
				want, _ = dtypeOf(c.m.typ)
			}
			if tt.DType != want || len(tt.Data) != want.DataBytes(tt.Elements()) {
				t.Errorf("%s: %s with %d bytes", info.Name, tt.DType, len(tt.Data))
			}
		}
	}
}

// TestConfigErrors checks that models this runtime cannot run open (for
// inspection) but fail ModelConfig with the right code.
func TestConfigErrors(t *testing.T) {
	base := tinyModel{arch: "llama", dim: 32, hidden: 64, layers: 1, heads: 4, kvHeads: 2, vocab: 8, typ: GGMLF16}
	with := func(f func(m *tinyModel)) tinyModel { m := base; f(&m); return m }
	cases := map[string]struct {
		m    tinyModel
		code string
	}{
		"architecture":   {with(func(m *tinyModel) { m.arch = "gptneox" }), "model.unsupported_architecture"},
		"missing tensor": {with(func(m *tinyModel) { m.skip = "blk.0.ffn_up.weight" }), "model.missing_tensor"},
		"missing bias":   {with(func(m *tinyModel) { m.bias = true; m.skip = "blk.0.attn_v.bias" }), "model.missing_tensor"},
		"heads":          {with(func(m *tinyModel) { m.kvHeads = 3 }), "model.bad_config"},
		"q4_k":           {with(func(m *tinyModel) { m.dim, m.hidden, m.typ = 256, 256, 12 }), "model.unsupported_dtype"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g, err := parseBytes(tinyModelFile(c.m))
			if err != nil {
				t.Fatalf("the file must still open: %v", err)
			}
			_, err = g.ModelConfig()
			e := wantModelError(t, err, "mem.gguf")
			if e.Code != c.code {
				t.Errorf("code %s, want %s: %v", e.Code, c.code, e)
			}
			if g.Config() != (model.Config{}) {
				t.Errorf("Config() not zero after an error")
			}
		})
	}
}

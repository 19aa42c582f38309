package llama2c

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// values decodes a tensor to float32s: F32 as is, Q8_0 as q*scale.
func values(t *testing.T, x *tensor.Tensor) []float32 {
	t.Helper()
	n := x.Elements()
	out := make([]float32, n)
	switch x.DType {
	case tensor.F32:
		if len(x.Data) != 4*n {
			t.Fatalf("%s: %d data bytes for %d f32 elements", x.Name, len(x.Data), n)
		}
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(x.Data[4*i:]))
		}
	case tensor.Q8_0:
		if len(x.Data) != n || len(x.Scales) != n/tensor.BlockSize || x.Shape[len(x.Shape)-1]%tensor.BlockSize != 0 {
			t.Fatalf("%s: q8_0 with %d bytes, %d scales, shape %v", x.Name, len(x.Data), len(x.Scales), x.Shape)
		}
		for i := range out {
			out[i] = float32(int8(x.Data[i])) * x.Scales[i/tensor.BlockSize]
		}
	default:
		t.Fatalf("%s: unexpected dtype %v", x.Name, x.DType)
	}
	return out
}

// wantShapes are the canonical [out, in] shapes of model m.
func wantShapes(m *synthModel) map[string][]int {
	kv := m.kvHeads * (m.dim / m.heads)
	s := map[string][]int{"token_embd.weight": {m.vocab, m.dim}, "output_norm.weight": {m.dim}}
	if !m.shared {
		s["output.weight"] = []int{m.vocab, m.dim}
	}
	for l := range m.layers {
		pre := model.LayerTensor(l, "")
		s[pre+"attn_norm.weight"] = []int{m.dim}
		s[pre+"attn_q.weight"] = []int{m.dim, m.dim}
		s[pre+"attn_k.weight"] = []int{kv, m.dim}
		s[pre+"attn_v.weight"] = []int{kv, m.dim}
		s[pre+"attn_output.weight"] = []int{m.dim, m.dim}
		s[pre+"ffn_norm.weight"] = []int{m.dim}
		s[pre+"ffn_gate.weight"] = []int{m.hidden, m.dim}
		s[pre+"ffn_down.weight"] = []int{m.dim, m.hidden}
		s[pre+"ffn_up.weight"] = []int{m.hidden, m.dim}
	}
	return s
}

// checkSynth parses file and checks config, names, shapes and values
// against m (want overrides m's values for quantized tensors).
func checkSynth(t *testing.T, m *synthModel, file []byte, want map[string][]float32, wantQ8 func(name string) bool) {
	t.Helper()
	c, err := Parse(bytes.NewReader(file), int64(len(file)), "dir/synth.v.bin", specOf(m.vocab))
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	wantCfg := model.Config{Dim: m.dim, Hidden: m.hidden, Layers: m.layers, Heads: m.heads, KVHeads: m.kvHeads,
		HeadDim: m.dim / m.heads, Vocab: m.vocab, SeqLen: m.seqLen, RopeTheta: 10000,
		RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: m.shared}
	if cfg != wantCfg {
		t.Fatalf("config %+v, want %+v", cfg, wantCfg)
	}
	if meta := c.Meta(); meta.Name != "synth.v" || meta.Architecture != "llama" || meta.SourceFormat != "llama2c" {
		t.Errorf("meta %+v", meta)
	}
	shapes := wantShapes(m)
	infos := c.Tensors()
	if len(infos) != len(shapes) {
		t.Fatalf("%d tensors, want %d", len(infos), len(shapes))
	}
	for _, info := range infos {
		if !slices.Equal(info.Shape, shapes[info.Name]) {
			t.Errorf("%s: shape %v, want %v", info.Name, info.Shape, shapes[info.Name])
		}
		x, err := c.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if x.DType != info.DType || !slices.Equal(x.Shape, info.Shape) || x.Name != info.Name {
			t.Errorf("%s: read %s %v, listed %s %v", info.Name, x.DType, x.Shape, info.DType, info.Shape)
		}
		if q8 := wantQ8 != nil && wantQ8(info.Name); (x.DType == tensor.Q8_0) != q8 {
			t.Errorf("%s: dtype %s, want q8_0 %v", info.Name, x.DType, q8)
		}
		exp := m.w[info.Name]
		if w, ok := want[info.Name]; ok {
			exp = w
		}
		if got := values(t, x); !slices.Equal(got, exp) {
			t.Errorf("%s: values differ from what was written", info.Name)
		}
	}
}

func TestSyntheticLegacy(t *testing.T) {
	for _, shared := range []bool{true, false} {
		m := newSynth(16, 24, 2, 4, 2, 10, 6, shared, 1)
		checkSynth(t, m, m.legacy(), nil, nil)
	}
}

func TestSyntheticVersion1(t *testing.T) {
	for _, shared := range []bool{true, false} {
		m := newSynth(16, 24, 2, 4, 2, 10, 6, shared, 2)
		checkSynth(t, m, m.version1(), nil, nil)
	}
}

func TestSyntheticVersion2(t *testing.T) {
	isNorm := func(n string) bool {
		return slices.Contains([]string{"attn_norm", "ffn_norm", "output_norm"}, partOf(n))
	}
	cases := []struct {
		name            string
		dim, hidden, gs int
		q8              func(name string) bool
	}{
		// Group size 32: every matrix with rows of a multiple of 32 is Q8_0;
		// ffn_down's rows are hidden (48) long, so it comes back as F32.
		{"gs32", 64, 48, 32, func(n string) bool { return !isNorm(n) && partOf(n) != "ffn_down" }},
		// Group size 64 spreads each scale over two Q8_0 blocks.
		{"gs64", 64, 64, 64, func(n string) bool { return !isNorm(n) }},
		// Group size 16 cannot be Q8_0: everything dequantizes to F32.
		{"gs16", 32, 32, 16, func(string) bool { return false }},
	}
	for _, tc := range cases {
		for _, shared := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				m := newSynth(tc.dim, tc.hidden, 2, 4, 2, 8, 4, shared, 3)
				file, deq := m.version2(tc.gs)
				checkSynth(t, m, file, deq, tc.q8)
			})
		}
	}
}

// partOf returns "attn_q" of "blk.0.attn_q.weight" and "output_norm" of
// "output_norm.weight".
func partOf(name string) string {
	name = name[:len(name)-len(".weight")]
	if i := bytes.LastIndexByte([]byte(name), '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func TestVocabMismatch(t *testing.T) {
	m := newSynth(16, 24, 1, 4, 2, 10, 6, true, 4)
	file := m.legacy()
	_, err := Parse(bytes.NewReader(file), int64(len(file)), "synth.bin", specOf(11))
	e := wantModelError(t, err, "synth.bin")
	if e.Code != "model.vocab_mismatch" || !bytes.Contains([]byte(e.Msg), []byte("11")) || !bytes.Contains([]byte(e.Msg), []byte("10")) {
		t.Errorf("got %v, want a vocab mismatch naming 11 and 10", err)
	}
}

func TestReadTensorMissing(t *testing.T) {
	m := newSynth(16, 24, 1, 4, 2, 10, 6, true, 5)
	file := m.legacy()
	c, err := Parse(bytes.NewReader(file), int64(len(file)), "synth.bin", specOf(10))
	if err != nil {
		t.Fatal(err)
	}
	// A shared classifier means there is no output.weight to read.
	_, err = c.ReadTensor("output.weight")
	if e := wantModelError(t, err, "synth.bin"); e.Code != "model.tensor_missing" || e.Tensor != "output.weight" {
		t.Errorf("got %v", err)
	}
}

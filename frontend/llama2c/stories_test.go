package llama2c

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// stories260KConfig is the model MANIFEST.md describes.
var stories260KConfig = model.Config{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8,
	Vocab: 512, SeqLen: 512, RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: true}

// parseShared parses a stories260K checkpoint straight from its file.
func parseShared(t *testing.T, file string) *Checkpoint {
	t.Helper()
	path := filepath.Join(storiesDir(t), file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(f, st.Size(), path, specOf(512))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readAll reads every tensor of c, checking it against its listing.
func readAll(t *testing.T, c *Checkpoint) map[string]*tensor.Tensor {
	t.Helper()
	out := map[string]*tensor.Tensor{}
	for _, info := range c.Tensors() {
		x, err := c.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if x.DType != info.DType || !slices.Equal(x.Shape, info.Shape) {
			t.Errorf("%s: read %s %v, listed %s %v", info.Name, x.DType, x.Shape, info.DType, info.Shape)
		}
		out[info.Name] = x
	}
	return out
}

// stories260KShapes are the canonical shapes of every tensor of the model.
func stories260KShapes() map[string][]int {
	s := map[string][]int{model.TokenEmbd: {512, 64}, model.OutputNorm: {64}}
	for l := range 5 {
		for part, shape := range map[string][]int{
			"attn_norm.weight": {64}, "attn_q.weight": {64, 64}, "attn_k.weight": {32, 64},
			"attn_v.weight": {32, 64}, "attn_output.weight": {64, 64}, "ffn_norm.weight": {64},
			"ffn_gate.weight": {172, 64}, "ffn_down.weight": {64, 172}, "ffn_up.weight": {172, 64},
		} {
			s[model.LayerTensor(l, part)] = shape
		}
	}
	return s
}

func TestStories260K(t *testing.T) {
	for _, file := range []string{"stories260K.bin", "stories260K_q80.bin"} {
		c := parseShared(t, file)
		if cfg := c.Config(); cfg != stories260KConfig {
			t.Errorf("%s: config %+v, want %+v", file, cfg, stories260KConfig)
		}
		cfg := c.Config()
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: config does not validate: %v", file, err)
		}
		meta := c.Meta()
		if want := file[:len(file)-len(".bin")]; meta.Name != want || meta.Architecture != "llama" || meta.SourceFormat != "llama2c" {
			t.Errorf("%s: meta %+v", file, meta)
		}
		shapes := stories260KShapes()
		got := readAll(t, c)
		if len(got) != len(shapes) {
			t.Errorf("%s: %d tensors, want %d (no output.weight: the classifier is shared)", file, len(got), len(shapes))
		}
		for name, shape := range shapes {
			x, ok := got[name]
			if !ok {
				t.Errorf("%s: no %s", file, name)
				continue
			}
			if !slices.Equal(x.Shape, shape) {
				t.Errorf("%s: %s shape %v, want %v", file, name, x.Shape, shape)
			}
			// Norms are fp32 in both files; in the int8 file the matrices
			// are Q8_0 except ffn_down, whose rows (172) are not whole
			// 32-element blocks.
			want := tensor.F32
			if file == "stories260K_q80.bin" && len(shape) == 2 && partOf(name) != "ffn_down" {
				want = tensor.Q8_0
			}
			if x.DType != want {
				t.Errorf("%s: %s is %s, want %s", file, name, x.DType, want)
			}
			values(t, x) // checks data and scale lengths
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestStories260KFirstWeight pins one value read from the legacy file: the
// float right after the 28-byte header is token_embd[0][0].
func TestStories260KFirstWeight(t *testing.T) {
	c := parseShared(t, "stories260K.bin")
	x, err := c.ReadTensor(model.TokenEmbd)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, x)[0]; math.Float32bits(got) != 0xbe96e950 {
		t.Errorf("token_embd[0][0] = %v (%#x), want bits 0xbe96e950", got, math.Float32bits(got))
	}
}

// TestQ80MatchesFP32 checks that the int8 export is the fp32 model
// quantized: each weight within half a quantization step (max|w| over its
// group of 32 / 127 / 2) of the fp32 weight, and the norms equal.
func TestQ80MatchesFP32(t *testing.T) {
	f32 := readAll(t, parseShared(t, "stories260K.bin"))
	q80 := readAll(t, parseShared(t, "stories260K_q80.bin"))
	const gs = 32
	var worstErr, worstRatio float64
	var worstName string
	for name, ref := range f32 {
		w := values(t, ref)
		d := values(t, q80[name])
		if len(ref.Shape) == 1 {
			if !slices.Equal(w, d) {
				t.Errorf("%s: fp32 norms differ between the files", name)
			}
			continue
		}
		for g := 0; g < len(w); g += gs {
			var mx float64
			for _, v := range w[g : g+gs] {
				mx = max(mx, math.Abs(float64(v)))
			}
			bound := mx/127/2*(1+1e-5) + 1e-9
			for i := g; i < g+gs; i++ {
				e := math.Abs(float64(w[i]) - float64(d[i]))
				if e > bound {
					t.Fatalf("%s[%d]: fp32 %v, int8 %v: error %g over bound %g", name, i, w[i], d[i], e, bound)
				}
				if e > worstErr {
					worstErr = e
				}
				if mx > 0 && e/(mx/127/2) > worstRatio {
					worstRatio, worstName = e/(mx/127/2), name
				}
			}
		}
	}
	t.Logf("worst |fp32 - int8| = %.3g; worst error / half step = %.6f (%s)", worstErr, worstRatio, worstName)
}

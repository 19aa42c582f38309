package model

import (
	"math"
	"testing"

	"github.com/omex-dev/omex/runtime/kernels"
)

// permuteRows applies llama.cpp's HF->GGUF Q/K permutation to a [heads *
// headDim, cols] weight (cols 1 for a bias): within each head, row 2i
// takes old row i and row 2i+1 takes old row i+headDim/2, which turns
// half-split pairs into interleaved ones.
func permuteRows(w []float32, heads, headDim, cols int) []float32 {
	out := make([]float32, len(w))
	half := headDim / 2
	for h := range heads {
		for i := range half {
			for _, p := range [2][2]int{{2 * i, i}, {2*i + 1, i + half}} {
				dst, src := (h*headDim+p[0])*cols, (h*headDim+p[1])*cols
				copy(out[dst:dst+cols], w[src:src+cols])
			}
		}
	}
	return out
}

// TestRopeLayoutsEquivalent checks the two rotary layouts against each
// other: a model in half-split (Hugging Face) form, and the same model with
// its Q and K rows (and biases) permuted as GGUF converters do, run with
// interleaved rope, must give the same logits.
func TestRopeLayoutsEquivalent(t *testing.T) {
	cfg := tinyConfig()
	vals, shapes := randomWeights(cfg, 3)
	hf, err := New(cfg, getter(vals, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	perm := map[string][]float32{}
	for name, v := range vals {
		perm[name] = v
	}
	for l := range cfg.Layers {
		for _, p := range []struct {
			part  string
			heads int
			cols  int
		}{{"attn_q.weight", cfg.Heads, cfg.Dim}, {"attn_k.weight", cfg.KVHeads, cfg.Dim}, {"attn_q.bias", cfg.Heads, 1}, {"attn_k.bias", cfg.KVHeads, 1}} {
			name := LayerTensor(l, p.part)
			perm[name] = permuteRows(vals[name], p.heads, cfg.HeadDim, p.cols)
		}
	}
	icfg := cfg
	icfg.RopeLayout = RopeInterleaved
	gg, err := New(icfg, getter(perm, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int{1, 7, 30, 30, 63, 0, 12, 5, 44, 9, 21, 2}
	a, err := forwardAll(hf, tokens)
	if err != nil {
		t.Fatal(err)
	}
	b, err := forwardAll(gg, tokens)
	if err != nil {
		t.Fatal(err)
	}
	for pos := range a {
		for i := range a[pos] {
			if d := math.Abs(float64(a[pos][i] - b[pos][i])); d > 1e-5 {
				t.Fatalf("pos %d logit %d: half-split %v, interleaved %v", pos, i, a[pos][i], b[pos][i])
			}
		}
	}

	// And the layouts really differ: the permuted weights under half-split
	// rope must not give the same logits, or the test above proves nothing.
	wrong, err := New(cfg, getter(perm, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	c, err := forwardAll(wrong, tokens)
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(a[len(a)-1], c[len(c)-1]) < 1e-3 {
		t.Error("permuted weights under the wrong layout gave the same logits")
	}
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// TestRopeLayoutNames checks that the config's layout names are the ones
// the kernels' Rope dispatches on: Forward passes them through as strings.
func TestRopeLayoutNames(t *testing.T) {
	if string(RopeInterleaved) != kernels.LayoutInterleaved || string(RopeHalfSplit) != kernels.LayoutHalfSplit {
		t.Errorf("layouts %q %q, kernels %q %q", RopeInterleaved, RopeHalfSplit, kernels.LayoutInterleaved, kernels.LayoutHalfSplit)
	}
}

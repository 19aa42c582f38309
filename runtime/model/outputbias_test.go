package model

import "testing"

// TestOutputBias checks that the attention output bias is read and added:
// a zero bias changes nothing, a non-zero one changes the logits.
func TestOutputBias(t *testing.T) {
	cfg := tinyConfig()
	vals, shapes := randomWeights(cfg, 7)
	plain, err := New(cfg, getter(vals, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	want, err := forwardAll(plain, []int{3, 9, 27})
	if err != nil {
		t.Fatal(err)
	}

	bcfg := cfg
	bcfg.OutputBias = true
	bvals, bshapes := map[string][]float32{}, map[string][]int{}
	for k, v := range vals {
		bvals[k], bshapes[k] = v, shapes[k]
	}
	for l := range cfg.Layers {
		name := LayerTensor(l, "attn_output.bias")
		bvals[name], bshapes[name] = make([]float32, cfg.Dim), []int{cfg.Dim}
	}
	zero, err := New(bcfg, getter(bvals, bshapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	got, err := forwardAll(zero, []int{3, 9, 27})
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		for i := range want[p] {
			if got[p][i] != want[p][i] {
				t.Fatalf("zero output bias changed logit %d at position %d: %v vs %v", i, p, got[p][i], want[p][i])
			}
		}
	}

	bvals[LayerTensor(0, "attn_output.bias")][5] = 0.5
	biased, err := New(bcfg, getter(bvals, bshapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	got, err = forwardAll(biased, []int{3, 9, 27})
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] == want[0][0] && got[0][1] == want[0][1] {
		t.Fatal("a non-zero output bias left the logits unchanged")
	}

	delete(bvals, LayerTensor(1, "attn_output.bias"))
	if _, err := New(bcfg, getter(bvals, bshapes, asF32)); err == nil {
		t.Fatal("a missing output bias was not reported")
	}
}

package passes

import (
	"bytes"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/tensor"
)

// TestInterleavedLayouts checks the layouts the Go-assembly targets
// register: matrices and the tied embedding/classifier table get the
// target's interleaving, the norm stays row-major, and RepackedWeights
// hands out goasm.Interleave's data.
func TestInterleavedLayouts(t *testing.T) {
	store := map[string]*tensor.Tensor{}
	for _, w := range []struct {
		name string
		n, k int
	}{{"emb", 10, 4}, {"wq", 4, 4}, {"wd", 4, 4}, {"norm", 4, 1}} {
		data := make([]byte, 4*w.n*w.k)
		for i := range data {
			data[i] = byte(i * 7)
		}
		shape := []int{w.n, w.k}
		if w.name == "norm" {
			shape = []int{w.n}
		}
		store[w.name] = &tensor.Tensor{Name: w.name, DType: tensor.F32, Shape: shape, Data: data}
	}
	for target, lanes := range map[string]int{"amd64-avx512": 16, "amd64-avx2": 8, "amd64-sse": 4, "arm64-neon": 4} {
		m := parseTest(t, layoutModule)
		res, err := runLayout(t, m, target)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Module.Weights {
			want := InterleavedLayoutName(lanes)
			if w.Name == "norm" {
				want = ""
			}
			if w.Layout != want {
				t.Errorf("%s: @%s has layout %q, want %q", target, w.Name, w.Layout, want)
			}
		}
		get := RepackedWeights(res.Module, target, func(name string) (*tensor.Tensor, error) { return store[name], nil })
		for _, name := range []string{"emb", "wq"} {
			got, err := get(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := goasm.Interleave(store[name], lanes)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Data, want.Data) || got.Shape[0] != want.Shape[0] {
				t.Errorf("%s: @%s is not goasm.Interleave's layout", target, name)
			}
		}
	}
	res, err := runLayout(t, parseTest(t, layoutModule), "generic")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Module.Weights {
		if w.Layout != "" {
			t.Errorf("generic: @%s has layout %q", w.Name, w.Layout)
		}
	}
}

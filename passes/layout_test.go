package passes

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/tensor"
)

// transposedLayout is a test layout: matrices stored [in, out] (column
// major), as a kernel that walks inputs in the outer loop might want.
var transposedLayout = Layout{
	Name:  "transposed",
	Wants: func(w *ir.Weight, kind WeightKind) bool { return kind == KindMatrix && w.Type.Elem == ir.F32 },
	Repack: func(t *tensor.Tensor) (*tensor.Tensor, error) {
		rows, cols := t.Shape[0], t.Shape[1]
		out := &tensor.Tensor{Name: t.Name, DType: t.DType, Shape: []int{cols, rows}, Data: make([]byte, len(t.Data))}
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				copy(out.Data[4*(c*rows+r):4*(c*rows+r)+4], t.Data[4*(r*cols+c):])
			}
		}
		return out, nil
	},
}

// layoutModule is a one-layer block: matrices, a tied table, norms.
const layoutModule = `module "layout"

weight @emb : f32[10,4]
weight @norm : f32[4]
weight @wq : f32[4,4]
weight @wd : f16[4,4]

func @decode(%t: i32[1]) -> f32[1,10] {
  %x = embed %t, @emb : f32[1,4]
  %h = rmsnorm %x, @norm {eps=1e-05} : f32[1,4]
  %a = matmul %h, @wq : f32[1,4]
  %b = matmul %a, @wd : f32[1,4]
  %l = matmul %b, @emb : f32[1,10]
  return %l
}
`

func runLayout(t *testing.T, m *ir.Module, target string) (*Result, error) {
	t.Helper()
	p, _ := Lookup("layout")
	mg, err := New([]Pass{p}, Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return mg.Run(context.Background(), m)
}

// TestLayoutRegistered registers a test target: its layout is recorded on
// exactly the weights it wants (f32 matrices: not the f16 one, not the
// embedding/classifier table, not the norm), the text form shows it, and
// RepackedWeights hands out the repacked data. The generic target and
// unregistered ones change nothing.
func TestLayoutRegistered(t *testing.T) {
	RegisterLayouts("test-cpu", []Layout{transposedLayout})
	defer RegisterLayouts("test-cpu", nil)
	m := parseTest(t, layoutModule)

	res, err := runLayout(t, m, "test-cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Module.Weights {
		want := ""
		if w.Name == "wq" {
			want = "transposed"
		}
		if w.Layout != want {
			t.Errorf("@%s has layout %q, want %q", w.Name, w.Layout, want)
		}
	}
	if !strings.Contains(ir.Print(res.Module), `weight @wq : f32[4,4] layout "transposed"`) {
		t.Errorf("the text form does not show the layout:\n%s", ir.Print(res.Module))
	}
	if f, ok := res.Finding("layout", "weights_repacked"); !ok || f.Value != 1 || !strings.Contains(f.Text, "1 to transposed") {
		t.Errorf("finding %+v", f)
	}

	// The data: @wq comes back transposed, @wd converted to its declared
	// type and otherwise as stored.
	store := map[string]*tensor.Tensor{}
	vals := make([]float32, 16)
	for i := range vals {
		vals[i] = float32(i)
	}
	data := make([]byte, 64)
	for i, v := range vals {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	store["wq"] = &tensor.Tensor{Name: "wq", DType: tensor.F32, Shape: []int{4, 4}, Data: data}
	store["wd"] = &tensor.Tensor{Name: "wd", DType: tensor.F32, Shape: []int{4, 4}, Data: data}
	get := RepackedWeights(res.Module, "test-cpu", func(name string) (*tensor.Tensor, error) { return store[name], nil })
	wq, err := get("wq")
	if err != nil {
		t.Fatal(err)
	}
	got := tensor.Float32s(wq)
	for r := 0; r < 4; r++ {
		for c := 0; c < 4; c++ {
			if got[c*4+r] != vals[r*4+c] {
				t.Fatalf("repacked @wq[%d][%d] = %v, want %v", c, r, got[c*4+r], vals[r*4+c])
			}
		}
	}
	wd, err := get("wd")
	if err != nil || wd.DType != tensor.F16 {
		t.Fatalf("@wd: %v, %v", wd, err)
	}

	// Running again for the same target changes nothing; for another
	// target with other layouts it is refused.
	again, err := runLayout(t, res.Module, "test-cpu")
	if err != nil || ir.Print(again.Module) != ir.Print(res.Module) {
		t.Errorf("second run: %v", err)
	}
	RegisterLayouts("test-gpu", []Layout{{Name: "tiles", Wants: transposedLayout.Wants, Repack: transposedLayout.Repack}})
	defer RegisterLayouts("test-gpu", nil)
	if _, err := runLayout(t, res.Module, "test-gpu"); err == nil || !strings.Contains(err.Error(), `already has layout "transposed"`) {
		t.Errorf("relayout for another target: %v", err)
	}
	if _, err := RepackedWeights(res.Module, "generic", func(name string) (*tensor.Tensor, error) { return store[name], nil })("wq"); err == nil {
		t.Error("a layout the target does not know was read without error")
	}

	for _, target := range []string{"", "generic", "unregistered"} {
		res, err := runLayout(t, m, target)
		if err != nil || ir.Print(res.Module) != ir.Print(m) {
			t.Errorf("target %q changed the module: %v", target, err)
		}
		if f, ok := res.Finding("layout", "weights_repacked"); !ok || f.Value != 0 {
			t.Errorf("target %q: finding %+v", target, f)
		}
	}
}

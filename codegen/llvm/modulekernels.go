package llvm

import (
	"slices"
	"strings"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
)

// ModuleKernels returns the matvec kernels a module compiled for target t
// (the pass pipeline down to layout) runs through generated kernels: one
// per distinct (dtype, rows, cols) of the weights carrying the target's
// interleaved layout, sorted by name. These are the kernels
// codegen/goasm.GenerateModel's schedule calls by name, so Package's files
// for them replace goasm's kernel files in that package.
func ModuleKernels(m *ir.Module, t targets.Target) ([]Kernel, error) {
	mc, err := machineFor(t)
	if err != nil {
		return nil, err
	}
	layout := goasm.LayoutName(mc.lanes)
	sizes := m.Sizes()
	var ks []Kernel
	for _, w := range m.Weights {
		if w.Layout == "" {
			continue
		}
		if w.Layout != layout {
			return nil, omexerr.Modelf("model.layout", "weight @%s has layout %q; the %s kernels read %q", w.Name, w.Layout, t.Name, layout).WithTensor(w.Name)
		}
		dt, ok := w.Type.Elem.DType()
		shape, err := w.Type.ShapeIn(sizes)
		if !ok || err != nil || len(shape) != 2 {
			return nil, omexerr.Modelf("model.layout", "weight @%s : %v has layout %q but is not a matrix of a weight type", w.Name, w.Type, layout).WithTensor(w.Name)
		}
		k := MatVec{ISA: goasm.ISA(t.Kernels), DType: dt, N: shape[0], K: shape[1]}
		if err := k.check(mc); err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b Kernel) int { return strings.Compare(a.Name(), b.Name()) })
	return slices.CompactFunc(ks, func(a, b Kernel) bool { return a.Name() == b.Name() }), nil
}

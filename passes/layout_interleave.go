package passes

import (
	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// The Go-assembly kernels (codegen/goasm) read every matrix in
// row-interleaved groups of as many rows as their vectors have float32
// lanes (goasm.Interleave): 16 for amd64-avx512, 8 for amd64-avx2, 4 for
// amd64-sse and arm64-neon. Each target with assembly kernels registers
// that layout for its projection matrices and for the embedding/classifier
// table (the classifier is the largest product of a decode step; the
// generated code reads the embedding row out of the interleaved table).
func init() {
	for _, t := range targets.All() {
		isa, err := goasm.ForTarget(t)
		if err != nil || isa == goasm.Generic {
			continue
		}
		RegisterLayouts(t.Name, []Layout{InterleavedLayout(isa.Lanes())})
	}
}

// InterleavedLayoutName is the name of the layout of lanes interleaved
// rows, as weight annotations print it: `layout "interleave8"`.
func InterleavedLayoutName(lanes int) string { return goasm.LayoutName(lanes) }

// InterleavedLayout is the row-interleaved layout of lanes rows per group
// for 2-D matrices and tables of any weight type (goasm.Interleave).
// Quantized weights need whole blocks per row, which the IR requires of
// them anyway.
func InterleavedLayout(lanes int) Layout {
	return Layout{
		Name: InterleavedLayoutName(lanes),
		Wants: func(w *ir.Weight, kind WeightKind) bool {
			if kind != KindMatrix && kind != KindTable || w.Type.Rank() != 2 {
				return false
			}
			k := w.Type.Shape[1]
			return k.IsConst() && (!w.Type.Elem.Quantized() || k.N%tensor.BlockSize == 0)
		},
		Repack: func(t *tensor.Tensor) (*tensor.Tensor, error) { return goasm.Interleave(t, lanes) },
	}
}

package passes

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// WeightKind is what a weight is to the model, from how its instructions
// read it; the precision policy and the target layouts decide by it.
type WeightKind int

// The weight kinds.
const (
	KindOther  WeightKind = iota // read in a way no policy knows, or not read
	KindMatrix                   // a projection or feed-forward matrix [out, in]
	KindTable                    // the embedding table or the classifier
	KindNorm                     // a norm scale or a bias
)

// String names the kind ("other", "matrix", "table", "norm").
func (k WeightKind) String() string {
	switch k {
	case KindMatrix:
		return "matrix"
	case KindTable:
		return "table"
	case KindNorm:
		return "norm"
	}
	return "other"
}

// Layout is one arrangement of weight data that a target's kernels want,
// for example rows interleaved in groups so a SIMD kernel loads several
// rows at once. The layout pass records the choice in the module (the
// weight's Layout annotation); whoever hands the target's kernels their
// weights (the package writer or loader of the code-generation issue)
// rearranges the data with Repack, after converting it to the declared
// element type.
type Layout struct {
	Name string
	// Wants reports whether this layout is the one for the weight.
	Wants func(w *ir.Weight, kind WeightKind) bool
	// Repack returns t (of the weight's declared type and shape) in this
	// layout. It must not modify t.
	Repack func(t *tensor.Tensor) (*tensor.Tensor, error)
}

// targetLayouts holds each target's layouts, in the order they are tried
// (the first that wants a weight wins). A target that is not here, such
// as the portable reference target "" or "generic", reads every weight
// row-major [out, in], as stored: there the pass changes nothing.
var (
	layoutsMu     sync.RWMutex
	targetLayouts = map[string][]Layout{}
)

// RegisterLayouts sets the layouts target's kernels want (replacing any
// earlier registration); an empty list unregisters it. Code generators
// call it for their targets, usually from an init function.
func RegisterLayouts(target string, ls []Layout) {
	layoutsMu.Lock()
	defer layoutsMu.Unlock()
	if len(ls) == 0 {
		delete(targetLayouts, target)
		return
	}
	targetLayouts[target] = append([]Layout(nil), ls...)
}

// layoutsFor returns target's layouts (nil when it has none).
func layoutsFor(target string) []Layout {
	layoutsMu.RLock()
	defer layoutsMu.RUnlock()
	return targetLayouts[target]
}

// layout marks every weight with the layout the target's kernels want for
// it (Weight.Layout, printed `weight @w : T layout "name"`). Data is not
// touched here: weights stay out of the IR, and RepackedWeights applies
// the layouts when the weights are read. A weight that already carries a
// different layout (a module compiled for another target) is an error:
// repacking is one-way, so such a module must be compiled again from the
// model.
//
// Today no target registers a layout: the generic (host) target's kernels,
// like the interpreter, read every weight row-major [out, in] as the model
// stores it, so the pass reports that and changes nothing. What a code
// generator adds for its target:
//
//  1. RegisterLayouts(target, layouts) from an init function: for each
//     arrangement its kernels want, a Name, Wants (which weights, by kind
//     and declared type: e.g. q4_0 matrices with rows a multiple of 256)
//     and Repack (the data rearrangement, tested against its kernel);
//  2. read weights through RepackedWeights(module, target, read) when it
//     writes the target's package or hands weights to its kernels;
//  3. its kernels for each op read the layout the weight is annotated with.
//
// The interpreter ignores the annotation and reads the model's row-major
// weights, so it stays the oracle for a module compiled for any target.
func layout(m *ir.Module, c *Context) error {
	target := c.Target
	if target == "" {
		target = "generic"
	}
	ls := layoutsFor(c.Target)
	if len(ls) == 0 {
		c.Report("weights_repacked", 0, "weights", "target %s: its kernels read every weight row-major [out,in] as stored; no weight repacked", target)
		return nil
	}
	kinds := weightKinds(m)
	counts := map[string]int{}
	total := 0
	for _, w := range m.Weights {
		for _, l := range ls {
			if !l.Wants(w, kinds[w.Name]) {
				continue
			}
			if w.Layout != "" && w.Layout != l.Name {
				return omexerr.Modelf("model.layout", "weight @%s already has layout %q; target %s wants %q: compile from the model, not from IR compiled for another target", w.Name, w.Layout, target, l.Name).WithTensor(w.Name)
			}
			if w.Layout != l.Name {
				c.Logf("@%s : %s -> layout %q", w.Name, w.Type, l.Name)
				w.Layout = l.Name
				counts[l.Name]++
				total++
			}
			break
		}
	}
	var parts []string
	for name, n := range counts {
		parts = append(parts, fmt.Sprintf("%d to %s", n, name))
	}
	sort.Strings(parts)
	if total == 0 {
		parts = []string{"none needed"}
	}
	c.Report("weights_repacked", float64(total), "weights", "target %s: weights repacked: %s", target, strings.Join(parts, ", "))
	return nil
}

// RepackedWeights wraps a weight reader for a module compiled for target:
// each weight comes back converted to its declared element type and, when
// it carries a layout, rearranged by that layout's Repack. A weight whose
// layout the target does not register is an error (its data would be
// misread).
func RepackedWeights(m *ir.Module, target string, get func(name string) (*tensor.Tensor, error)) func(name string) (*tensor.Tensor, error) {
	byName := map[string]Layout{}
	for _, l := range layoutsFor(target) {
		byName[l.Name] = l
	}
	return func(name string) (*tensor.Tensor, error) {
		t, err := get(name)
		if err != nil {
			return nil, err
		}
		w := m.Weight(name)
		if w == nil || t == nil {
			return t, nil
		}
		if want, ok := w.Type.Elem.DType(); ok && t.DType != want {
			if t, err = tensor.Convert(t, want); err != nil {
				return nil, omexerr.Modelf("model.weight_dtype", "weight @%s cannot become %s", name, w.Type).WithTensor(name).Wrap(err)
			}
		}
		if w.Layout == "" {
			return t, nil
		}
		l, ok := byName[w.Layout]
		if !ok {
			return nil, omexerr.Modelf("model.layout", "weight @%s has layout %q, which target %q does not know", name, w.Layout, target).WithTensor(name)
		}
		return l.Repack(t)
	}
}

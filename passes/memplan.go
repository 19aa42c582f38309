package passes

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/omex-dev/omex/ir"
)

// PlanSeq is the prompt length memory planning assumes for a function's
// free seq symbol when the module binds no ctx (with ctx bound, prefill can
// take up to ctx rows, so the plan is made for ctx).
const PlanSeq = 512

// memplan gives every intermediate tensor of every function a place in one
// arena per function (ir.Plan, printed after the functions). Each value
// an instruction defines is live from that instruction to its last reader
// (ir.Func.LiveRanges; results to the end of the call); two values live at
// the same time never share bytes, and values whose lives do not meet reuse
// the same bytes. Placement is greedy by size with best fit: the largest
// values are placed first, each at the smallest 64-byte-aligned gap left by
// the already placed values it is live with (the "greedy by size" planner
// of TensorFlow Lite), which packs the big, short-lived activations of a
// transformer well. Sizes are taken with seq = ctx (or PlanSeq), the
// largest prompt; a shorter call uses a prefix of each slot.
//
// Planning changes no instruction, so numbers are unchanged. ir.Verify
// checks every plan (no two simultaneously live values share a byte); a
// later edit of a planned function makes its plan stale, and the module
// then simply has none for it (ir.Plan). The report gives each function's arena against the naive sum
// of its intermediates (one buffer each).
func memplan(m *ir.Module, c *Context) error {
	for _, f := range m.Funcs {
		// An earlier plan is replaced, or dropped when f cannot be planned.
		m.DropPlan(f.Name)
		bind, err := planBindings(m, f)
		if err != nil {
			c.Report(f.Name+"_unplanned", 1, "", "@%s not planned: %v", f.Name, err)
			continue
		}
		p, naive, err := planFunc(m, f, bind)
		if err != nil {
			c.Report(f.Name+"_unplanned", 1, "", "@%s not planned: %v", f.Name, err)
			continue
		}
		m.SetPlan(p)
		at := ""
		for _, b := range bind {
			at += fmt.Sprintf(" at %s = %d", b.Name, b.Value)
		}
		ratio := 0.0
		if naive > 0 {
			ratio = float64(p.Arena) / float64(naive)
		}
		c.Report(f.Name+"_arena_bytes", float64(p.Arena), "bytes", "@%s%s: arena %s for %d values, %.1f%% of the naive %s",
			f.Name, at, byteSize(p.Arena), len(p.Slots), 100*ratio, byteSize(naive))
		c.Report(f.Name+"_naive_bytes", float64(naive), "bytes", "@%s%s: naive sum of intermediates %s", f.Name, at, byteSize(naive))
	}
	return nil
}

// planBindings returns the sizes a plan of f assumes for the symbols its
// values use that the module does not bind: seq becomes ctx (or PlanSeq);
// any other free symbol has no size to plan with.
func planBindings(m *ir.Module, f *ir.Func) ([]ir.DimBinding, error) {
	var bind []ir.DimBinding
	seen := map[string]bool{}
	for _, r := range f.LiveRanges() {
		for _, d := range r.Value.Type.Shape {
			if d.IsConst() || seen[d.Sym] {
				continue
			}
			seen[d.Sym] = true
			if _, ok := m.DimValue(d.Sym); ok {
				continue
			}
			if d.Sym != "seq" {
				return nil, fmt.Errorf("no size to plan the free symbol %s with", d.Sym)
			}
			n, ok := m.DimValue("ctx")
			if !ok {
				n = PlanSeq
			}
			bind = append(bind, ir.DimBinding{Name: d.Sym, Value: n})
		}
	}
	return bind, nil
}

// planned is a value being placed: its live range, its size and, once
// placed, its offset.
type planned struct {
	r      ir.LiveRange
	size   int64
	offset int64
	placed bool
}

// planFunc places f's intermediates with the symbols bound as bind and
// returns the plan and the naive sum of their sizes.
func planFunc(m *ir.Module, f *ir.Func, bind []ir.DimBinding) (*ir.Plan, int64, error) {
	p := &ir.Plan{Func: f.Name, Bind: bind}
	sizes := p.Sizes(m)
	var vals []*planned
	var naive int64
	for _, r := range f.LiveRanges() {
		if r.Def < 0 {
			continue // a parameter: the caller's memory
		}
		n, err := r.Value.Type.Bytes(sizes)
		if err != nil {
			return nil, 0, fmt.Errorf("%%%s: %v", r.Value.Name, err)
		}
		if n > ir.MaxPlanBytes/4 {
			return nil, 0, fmt.Errorf("%%%s : %s needs %d bytes, beyond any arena", r.Value.Name, r.Value.Type, n)
		}
		naive += n
		vals = append(vals, &planned{r: r, size: n})
	}
	order := slices.Clone(vals)
	slices.SortStableFunc(order, func(a, b *planned) int {
		return cmp.Or(cmp.Compare(b.size, a.size), cmp.Compare(a.r.Def, b.r.Def))
	})
	var arena int64
	for _, v := range order {
		v.offset = bestFit(v, vals)
		v.placed = true
		arena = max(arena, alignUp(v.offset+v.size))
	}
	if arena > ir.MaxPlanBytes {
		return nil, 0, fmt.Errorf("the arena would need %d bytes", arena)
	}
	p.Arena = arena
	for _, v := range vals {
		p.Slots = append(p.Slots, ir.Slot{Value: v.r.Value, Offset: v.offset, Size: v.size})
	}
	return p, naive, nil
}

// bestFit returns the offset for v: the smallest gap between the placed
// values live at the same time as v that holds it, or the end of the
// highest of them.
func bestFit(v *planned, vals []*planned) int64 {
	if v.size == 0 {
		return 0
	}
	var busy []*planned
	for _, o := range vals {
		if o.placed && o.size > 0 && o.r.Overlaps(v.r) {
			busy = append(busy, o)
		}
	}
	slices.SortFunc(busy, func(a, b *planned) int { return cmp.Compare(a.offset, b.offset) })
	best, bestGap := int64(-1), int64(-1)
	var end int64 // the first free byte after the values seen so far
	for _, o := range busy {
		start := alignUp(end)
		if gap := o.offset - start; gap >= v.size && (bestGap < 0 || gap < bestGap) {
			best, bestGap = start, gap
		}
		end = max(end, o.offset+o.size)
	}
	if best < 0 {
		best = alignUp(end)
	}
	return best
}

// alignUp rounds n up to a multiple of ir.PlanAlign.
func alignUp(n int64) int64 { return (n + ir.PlanAlign - 1) / ir.PlanAlign * ir.PlanAlign }

// byteSize prints a byte count for people: "1.5 MiB", "768 B".
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package passes

import (
	"fmt"
	"slices"

	"github.com/omex-dev/omex/ir"
)

// What the fusion passes share: a uniform view of the instructions that
// multiply by a weight matrix, and the one way a fused instruction replaces
// the group of instructions it stands for.
//
// Every fused op is defined (docs/IR.md) as exactly the float32 operations
// of its expansion, in the same order, so a fusion changes no number as long
// as the group it replaces IS that expansion. Each fusion pass matches the
// expansion structurally; fuseGroup then checks that nothing outside the
// group needs an intermediate the fused op no longer produces, and that the
// fused op's rule types its results exactly as the values it takes over.

// linear is a matmul or an rmsnorm_matmul seen the same way: x times the
// weight w (plus an optional bias), with an optional rmsnorm prologue.
type linear struct {
	in   *ir.Instr
	x    *ir.Value
	norm string  // the rmsnorm weight; "" without a prologue
	eps  ir.Attr // the prologue's eps (when norm != "")
	w    string
	bias string // "" without a bias
}

// asLinear views in as a linear, when it is a plain or rmsnorm-prefixed
// matmul.
func asLinear(in *ir.Instr) (linear, bool) {
	if in == nil || len(in.Args) != 1 || len(in.Results) != 1 {
		return linear{}, false
	}
	l := linear{in: in, x: in.Args[0]}
	refs := in.Refs
	switch in.Op {
	case ir.OpMatMul:
	case ir.OpRMSNormMatMul:
		eps, ok := in.Attrs["eps"]
		if !ok || len(refs) < 1 {
			return linear{}, false
		}
		l.norm, l.eps, refs = refs[0], eps, refs[1:]
	default:
		return linear{}, false
	}
	switch len(refs) {
	case 1:
		l.w = refs[0]
	case 2:
		l.w, l.bias = refs[0], refs[1]
	default:
		return linear{}, false
	}
	return l, true
}

// linearOf returns the linear that defines v, if one does.
func linearOf(v *ir.Value) (linear, bool) {
	if v == nil {
		return linear{}, false
	}
	return asLinear(v.Def)
}

// result is the one value the linear computes.
func (l linear) result() *ir.Value { return l.in.Results[0] }

// sameInput reports whether l and o read the same input through the same
// prologue, so one fused op can compute the input once for both.
func (l linear) sameInput(o linear) bool {
	return l.x == o.x && l.norm == o.norm && (l.norm == "" || l.eps.Equal(o.eps))
}

// prologue returns the refs and attributes that give a fused op l's rmsnorm
// prologue: none when l has none.
func (l linear) prologue() ([]string, ir.Attrs) {
	if l.norm == "" {
		return nil, ir.Attrs{}
	}
	return []string{l.norm}, ir.Attrs{"eps": l.eps}
}

// sameBiasing reports whether all the linears have a bias or none has: the
// fused ops take biases for all their projections or for none.
func sameBiasing(ls ...linear) bool {
	for _, l := range ls[1:] {
		if (l.bias == "") != (ls[0].bias == "") {
			return false
		}
	}
	return true
}

// fuseGroup replaces the instructions of group by one instruction of op on
// args, refs and attrs whose results are the values in results (each
// defined by a member of group; they move to the new instruction, keeping
// their names and uses). It changes nothing and says why when
//   - a member's other results are used outside the group (the fused op
//     would have to recompute them),
//   - the op's rule rejects the operands or types the results differently,
//   - no position in the body has the operands defined before it and every
//     use of the results after it.
//
// The fused instruction goes at the first member's position, or later when
// an operand is defined after it. Only pure ops are ever grouped, so moving
// their work across an attention (which writes state) changes nothing.
func fuseGroup(m *ir.Module, f *ir.Func, op ir.Op, args []*ir.Value, refs []string, attrs ir.Attrs, results []*ir.Value, group []*ir.Instr) (bool, string) {
	index := make(map[*ir.Instr]int, len(f.Body))
	for i, in := range f.Body {
		index[in] = i
	}
	inGroup := func(in *ir.Instr) bool { return slices.Contains(group, in) }
	first := len(f.Body)
	for _, g := range group {
		i, ok := index[g]
		if !ok || g.HasSideEffects() {
			return false, fmt.Sprintf("%s is not a pure instruction of the body", g.Op)
		}
		first = min(first, i)
	}
	for _, r := range results {
		if r == nil || !inGroup(r.Def) {
			return false, "a result is not defined by the group"
		}
	}

	uses := f.Uses()
	counts := f.UseCounts()
	hi := len(f.Body) // the latest position: before the first outside use
	for _, g := range group {
		for _, r := range g.Results {
			inside := 0
			for _, u := range uses[r] {
				switch {
				case inGroup(u) && slices.Contains(results, r):
					return false, fmt.Sprintf("%%%s is both a result and used inside the group", r.Name)
				case inGroup(u):
					inside++
				case slices.Contains(results, r):
					hi = min(hi, index[u])
				}
			}
			if !slices.Contains(results, r) && counts[r] != inside {
				return false, fmt.Sprintf("%%%s is used outside the group", r.Name)
			}
		}
	}
	lo := 0 // the earliest position: after every operand's definition
	for _, a := range args {
		if a == nil {
			return false, "an operand is missing"
		}
		if a.Def != nil {
			i, ok := index[a.Def]
			if !ok || inGroup(a.Def) {
				return false, fmt.Sprintf("operand %%%s is computed by the group itself", a.Name)
			}
			lo = max(lo, i+1)
		}
	}
	pos := max(lo, first)
	if pos > hi {
		return false, "no position has every operand defined before it and every use after it"
	}

	ts, err := ir.InferTypes(m, op, args, refs, attrs)
	if err != nil {
		return false, err.Error()
	}
	if len(ts) != len(results) {
		return false, fmt.Sprintf("%s has %d results, the group %d", op, len(ts), len(results))
	}
	for i, t := range ts {
		if !t.Equal(results[i].Type) {
			return false, fmt.Sprintf("%s types result %d %s, the group %s", op, i, t, results[i].Type)
		}
	}

	fused := &ir.Instr{Op: op, Args: args, Refs: refs, Attrs: attrs, Results: results}
	if len(attrs) == 0 {
		fused.Attrs = nil
	}
	var mark *ir.Instr
	if pos < len(f.Body) {
		mark = f.Body[pos]
	}
	f.InsertBefore(mark, fused)
	for _, g := range group {
		f.Remove(g)
	}
	for _, r := range results {
		r.Def = fused
	}
	return true, ""
}

// useCount is how often v is used (as an operand or a function result).
func useCount(f *ir.Func, v *ir.Value) int {
	return f.UseCounts()[v]
}

// reportFused records how many groups a fusion pass fused and how many
// instructions that saved.
func reportFused(c *Context, groups, removed int, what string) {
	if groups == 0 {
		return
	}
	c.Report("fused", float64(groups), "groups", "%s: %d fused, instruction count down by %d", what, groups, removed)
}

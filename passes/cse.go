package passes

import (
	"math"
	"strconv"
	"strings"

	"github.com/omex-dev/omex/ir"
)

// cse merges instructions that compute the same value: same op, same
// operands, same @refs and same attributes. The later one's results are
// replaced by the earlier one's (which comes first in the straight-line
// body, so it is defined before every use) and it is removed.
//
// Instructions with side effects (attention writes the KV cache) are never
// merged: two of them are two writes. add and mul are commutative bit for
// bit in float32, so their operands are compared as a set: add(a, b) and
// add(b, a) merge. Float attributes compare by their bits.
func cse(m *ir.Module, c *Context) error {
	merged := 0
	for _, f := range m.Funcs {
		id := map[*ir.Value]int{} // values by order of definition
		for _, p := range f.Params {
			id[p] = len(id)
		}
		seen := map[string]*ir.Instr{}
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			if !in.HasSideEffects() {
				key, ok := cseKey(in, id)
				if prev := seen[key]; ok && prev != nil && sameResultTypes(prev, in) {
					c.Logf("@%s: %s is %s", f.Name, in, prev.Results[0])
					for j, r := range in.Results {
						f.ReplaceAllUses(r, prev.Results[j])
					}
					f.Remove(in)
					i--
					merged++
					continue
				} else if ok && prev == nil {
					seen[key] = in
				}
			}
			for _, r := range in.Results {
				id[r] = len(id)
			}
		}
	}
	if merged > 0 {
		c.Report("merged", float64(merged), "instrs", "instructions merged into an earlier equal one: %d", merged)
	}
	return nil
}

// cseKey spells out everything that determines in's results. It returns
// false when an operand is not a value defined so far (an invalid body).
func cseKey(in *ir.Instr, id map[*ir.Value]int) (string, bool) {
	args := make([]int, len(in.Args))
	for i, a := range in.Args {
		n, ok := id[a]
		if !ok {
			return "", false
		}
		args[i] = n
	}
	if (in.Op == ir.OpAdd || in.Op == ir.OpMul) && len(args) == 2 && args[0] > args[1] {
		args[0], args[1] = args[1], args[0]
	}
	var b strings.Builder
	b.WriteString(in.Op.String())
	for _, a := range args {
		b.WriteString(" %")
		b.WriteString(strconv.Itoa(a))
	}
	for _, r := range in.Refs {
		b.WriteString(" @")
		b.WriteString(strconv.Quote(r))
	}
	for _, n := range in.Attrs.Names() {
		a := in.Attrs[n]
		b.WriteString(" " + n + "=")
		if a.Kind == ir.AttrFloat {
			// By the bits: the printed form does not keep NaN payloads.
			b.WriteString("f" + strconv.FormatUint(uint64(math.Float32bits(a.Float)), 16))
		} else {
			b.WriteString(a.String())
		}
	}
	return b.String(), true
}

// sameResultTypes reports whether a and b declare the same result types
// (they do when their keys match and both verify; checked all the same so
// that a merge can never retype a use).
func sameResultTypes(a, b *ir.Instr) bool {
	if len(a.Results) != len(b.Results) {
		return false
	}
	for i := range a.Results {
		if !a.Results[i].Type.Equal(b.Results[i].Type) {
			return false
		}
	}
	return true
}

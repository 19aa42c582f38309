package passes

import (
	"math"

	"github.com/omex-dev/omex/ir"
)

// canonicalize simplifies instructions that compute nothing new or that
// fold to a constant, so the fusion patterns meet one form of each idea.
// Every rule keeps the numbers bit for bit:
//
//   - add/mul of two scalar consts -> const (one float32 operation, done
//     here exactly as the interpreter would);
//   - mul x, 1.0 -> x (x*1 is x for every float32, -0 and NaN included);
//   - add x, -0.0 -> x. add x, +0.0 is NOT folded: -0 + +0 is +0, so it
//     would change the sign of a zero;
//   - reshape to x's own type, slice of a whole axis, transpose by the
//     identity permutation -> x;
//   - reshape of a reshape -> one reshape of the original input;
//   - transpose of a transpose -> one transpose by the composed
//     permutation (or x when it is the identity).
//
// An instruction whose result is replaced by another value is removed;
// operands it leaves unused (the 1.0, an inner reshape) are dce's to
// delete. The rules run to a fixed point, each step removing an
// instruction or shortening a chain, so it ends.
func canonicalize(m *ir.Module, c *Context) error {
	total := 0
	for _, f := range m.Funcs {
		for {
			n := canonicalizeOnce(m, f, c)
			if n == 0 {
				break
			}
			total += n
		}
	}
	if total > 0 {
		c.Report("rewritten", float64(total), "instrs", "instructions simplified: %d", total)
	}
	return nil
}

// canonicalizeOnce applies the rules once to every instruction of f and
// returns how many it rewrote.
func canonicalizeOnce(m *ir.Module, f *ir.Func, c *Context) int {
	n := 0
	for i := 0; i < len(f.Body); i++ {
		in := f.Body[i]
		if len(in.Results) != 1 {
			continue
		}
		out := in.Results[0]
		if v := canonicalForward(in); v != nil && v.Type.Equal(out.Type) {
			c.Logf("@%s: %s -> %s", f.Name, in, v)
			f.ReplaceAllUses(out, v)
			f.Remove(in)
			i--
			n++
			continue
		}
		if canonicalRewrite(m, in) {
			c.Logf("@%s: rewrote %s", f.Name, in)
			n++
		}
	}
	return n
}

// canonicalForward returns the value in computes without computing
// anything (its input), or nil.
func canonicalForward(in *ir.Instr) *ir.Value {
	switch in.Op {
	case ir.OpMul, ir.OpAdd:
		if len(in.Args) != 2 {
			return nil
		}
		identity := math.Float32bits(1)
		if in.Op == ir.OpAdd {
			identity = math.Float32bits(float32(math.Copysign(0, -1)))
		}
		for i, a := range in.Args {
			if v, ok := constValue(a); ok && math.Float32bits(v) == identity {
				return in.Args[1-i]
			}
		}
	case ir.OpReshape, ir.OpSlice:
		// Same element count and the type unchanged: the same tensor.
		// (A slice keeps its type only when it spans the whole axis.)
		if len(in.Args) == 1 && in.Args[0].Type.Equal(in.Results[0].Type) {
			return in.Args[0]
		}
	case ir.OpTranspose:
		if perm, ok := in.Attrs.Ints("perm"); ok && len(in.Args) == 1 && isIdentityPerm(perm) {
			return in.Args[0]
		}
	}
	return nil
}

// canonicalRewrite rewrites in in place into a simpler form with the same
// result, and reports whether it did.
func canonicalRewrite(m *ir.Module, in *ir.Instr) bool {
	switch in.Op {
	case ir.OpMul, ir.OpAdd:
		if len(in.Args) != 2 {
			return false
		}
		a, oka := constValue(in.Args[0])
		b, okb := constValue(in.Args[1])
		if !oka || !okb || in.Results[0].Type.Rank() != 0 {
			return false
		}
		// A separate statement per operation keeps Go from fusing it
		// with anything: one float32 rounding, as in the interpreter.
		var v float32
		if in.Op == ir.OpMul {
			v = a * b
		} else {
			v = a + b
		}
		in.Op, in.Args, in.Refs, in.Attrs = ir.OpConst, nil, nil, ir.Attrs{"value": ir.FloatAttr(v)}
		return true
	case ir.OpReshape:
		inner := in.Args[0].Def
		if len(in.Args) != 1 || inner == nil || inner.Op != ir.OpReshape || len(inner.Args) != 1 {
			return false
		}
		x := inner.Args[0]
		shape, ok := reshapeAttr(x.Type, in.Results[0].Type)
		if !ok {
			return false
		}
		return retarget(m, in, x, ir.Attrs{"shape": shape})
	case ir.OpTranspose:
		inner := in.Args[0].Def
		if len(in.Args) != 1 || inner == nil || inner.Op != ir.OpTranspose || len(inner.Args) != 1 {
			return false
		}
		outer, ok1 := in.Attrs.Ints("perm")
		first, ok2 := inner.Attrs.Ints("perm")
		if !ok1 || !ok2 || len(outer) != len(first) {
			return false
		}
		// Result axis i is the inner result's axis outer[i], which is
		// x's axis first[outer[i]].
		perm := make([]int, len(outer))
		for i, p := range outer {
			if p < 0 || p >= len(first) {
				return false
			}
			perm[i] = first[p]
		}
		return retarget(m, in, inner.Args[0], ir.Attrs{"perm": ir.IntsAttr(perm...)})
	}
	return false
}

// retarget makes in read x with attrs instead, when the op's rule then
// types its result exactly as before.
func retarget(m *ir.Module, in *ir.Instr, x *ir.Value, attrs ir.Attrs) bool {
	ts, err := ir.InferTypes(m, in.Op, []*ir.Value{x}, in.Refs, attrs)
	if err != nil || len(ts) != 1 || !ts[0].Equal(in.Results[0].Type) {
		return false
	}
	in.Args = []*ir.Value{x}
	in.Attrs = attrs
	return true
}

// reshapeAttr returns the shape attribute that reshapes a value of type
// from into type to: constant dims by size, a symbolic dim as 0 when from
// has the same symbol at that index, else as the one inferred -1.
func reshapeAttr(from, to ir.Type) (ir.Attr, bool) {
	shape := make([]int, to.Rank())
	inferred := false
	for i, d := range to.Shape {
		switch {
		case d.IsConst():
			shape[i] = d.N
		case i < from.Rank() && from.Shape[i] == d:
			shape[i] = 0
		case !inferred:
			shape[i] = -1
			inferred = true
		default:
			return ir.Attr{}, false
		}
	}
	return ir.IntsAttr(shape...), true
}

// constValue returns the scalar a const instruction defines v as.
func constValue(v *ir.Value) (float32, bool) {
	if v == nil || v.Def == nil || v.Def.Op != ir.OpConst {
		return 0, false
	}
	return v.Def.Attrs.Float("value")
}

// isIdentityPerm reports whether perm keeps every axis in place.
func isIdentityPerm(perm []int) bool {
	for i, p := range perm {
		if p != i {
			return false
		}
	}
	return true
}

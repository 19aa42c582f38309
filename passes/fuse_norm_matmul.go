package passes

import (
	"fmt"

	"github.com/omex-dev/omex/ir"
)

// fuseNormMatMul folds an rmsnorm into the matrix products that read it, so
// the normalized activation is never written to memory.
//
// The rule: an rmsnorm whose every use (at least one, and not a function
// result) is the input x of a product that can take an rmsnorm prologue is
// removed, and each of those products gets the prologue:
//
//	matmul x                         -> rmsnorm_matmul x, @norm, @w [, @b] {eps}
//	matmul_qkv / matmul_gate_up /
//	matmul_rope x (without prologue) -> the same op with @norm first and eps
//
// Each fused op is defined as its product applied to rmsnorm(x, norm), the
// same float32 operations (docs/IR.md), so no number changes. When several
// plain matmuls read one rmsnorm each recomputes it; the pipeline runs
// fuse-qkv and fuse-gate-up first so that a Llama block's norms each feed
// one fused product and are computed once, as before. An rmsnorm with any
// other use (an add, a function result, matmul_add's residual) stays.
func fuseNormMatMul(m *ir.Module, c *Context) error {
	groups, removed := 0, 0
	for _, f := range m.Funcs {
		uses := f.Uses()
		counts := f.UseCounts()
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			if in.Op != ir.OpRMSNorm || len(in.Args) != 1 || len(in.Refs) != 1 || len(in.Results) != 1 {
				continue
			}
			r := in.Results[0]
			us := uses[r]
			if len(us) == 0 || len(us) != counts[r] {
				continue
			}
			why := ""
			for _, u := range us {
				if why = normConsumerProblem(u, r); why != "" {
					break
				}
			}
			if why != "" {
				c.Logf("@%s: rmsnorm %s stays: %s", f.Name, r, why)
				continue
			}
			rewrites := make([]func(), 0, len(us))
			for _, u := range us {
				apply, err := withNormPrologue(m, u, in)
				if err != nil {
					return fmt.Errorf("@%s: %v", f.Name, err)
				}
				rewrites = append(rewrites, apply)
			}
			for _, apply := range rewrites {
				apply()
			}
			f.Remove(in)
			i--
			groups++
			removed++
		}
	}
	reportFused(c, groups, removed, "rmsnorms -> rmsnorm prologues of the matmuls reading them")
	return nil
}

// normConsumerProblem says why u cannot take the rmsnorm result r as a
// prologue, or returns "" when it can.
func normConsumerProblem(u *ir.Instr, r *ir.Value) string {
	switch u.Op {
	case ir.OpMatMul:
	case ir.OpMatMulQKV, ir.OpMatMulGateUp, ir.OpMatMulRope:
		if u.Attrs.Has("eps") {
			return u.Op.String() + " already has an rmsnorm prologue"
		}
	default:
		return "it is used by " + u.Op.String()
	}
	for i, a := range u.Args {
		if a == r && i != 0 {
			return "it is not the input x of " + u.Op.String()
		}
	}
	return ""
}

// withNormPrologue prepares the rewrite of u, which reads the result of norm
// as its x, into reading norm's input through its own rmsnorm prologue, and
// returns the function that applies it. Its results keep their values, so
// the rule must type them the same; an error here is a bug in the pass,
// since the prologue computes exactly the type u read before.
func withNormPrologue(m *ir.Module, u, norm *ir.Instr) (func(), error) {
	op := u.Op
	if op == ir.OpMatMul {
		op = ir.OpRMSNormMatMul
	}
	args := append([]*ir.Value{norm.Args[0]}, u.Args[1:]...)
	refs := append([]string{norm.Refs[0]}, u.Refs...)
	attrs := u.Attrs.Clone()
	if attrs == nil {
		attrs = ir.Attrs{}
	}
	attrs["eps"] = norm.Attrs["eps"]
	ts, err := ir.InferTypes(m, op, args, refs, attrs)
	if err != nil {
		return nil, fmt.Errorf("%s with the prologue of %s: %v", u.Op, norm.Results[0], err)
	}
	for i, t := range ts {
		if i >= len(u.Results) || !t.Equal(u.Results[i].Type) {
			return nil, fmt.Errorf("%s with the prologue of %s changes its result types", u.Op, norm.Results[0])
		}
	}
	return func() { u.Op, u.Args, u.Refs, u.Attrs = op, args, refs, attrs }, nil
}

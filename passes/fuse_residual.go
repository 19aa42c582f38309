package passes

import "github.com/omex-dev/omex/ir"

// fuseResidual folds a residual connection into the matmul that produces
// the branch it adds: add(r, matmul(x, w)) becomes
//
//	%h = matmul_add %x, %r, @w [, @bias]
//
// defined as x·w [+ bias] + r (docs/IR.md), so the branch's output is added
// to the residual stream as it is written rather than read back.
//
// The matmul's result must have no other use, and r must have the matmul's
// type (add also broadcasts a scalar, which matmul_add does not). Either
// operand of the add may be the matmul (float32 addition is commutative bit
// for bit); when both are, the second is taken, the branch in the usual
// x = x + f(x) form. A matmul with an rmsnorm prologue is left alone:
// matmul_add has no prologue.
func fuseResidual(m *ir.Module, c *Context) error {
	groups, removed := 0, 0
	for _, f := range m.Funcs {
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			if in.Op != ir.OpAdd || len(in.Args) != 2 {
				continue
			}
			for _, pair := range [2][2]*ir.Value{{in.Args[1], in.Args[0]}, {in.Args[0], in.Args[1]}} {
				branch, residual := pair[0], pair[1]
				l, ok := linearOf(branch)
				if !ok || l.norm != "" || !residual.Type.Equal(branch.Type) {
					continue
				}
				refs := []string{l.w}
				if l.bias != "" {
					refs = append(refs, l.bias)
				}
				out := in.Results[0]
				ok, why := fuseGroup(m, f, ir.OpMatMulAdd, []*ir.Value{l.x, residual}, refs, nil, []*ir.Value{out}, []*ir.Instr{l.in, in})
				if !ok {
					c.Logf("@%s: %s not fused: %s", f.Name, out, why)
					continue
				}
				groups++
				removed++
				i = f.Index(out.Def)
				break
			}
		}
	}
	reportFused(c, groups, removed, "residual adds -> matmul_add")
	return nil
}

package passes

import "github.com/omex-dev/omex/ir"

// fuseQKV merges the query, key and value projections of an attention into
// one matmul_qkv, so a backend reads the shared input once and runs one
// wider matrix product.
//
// It starts from each attention: its q and k operands, seen through a rope
// if there is one, and its v operand must be computed by matmuls (or
// rmsnorm_matmuls) of the same input, through the same rmsnorm prologue
// when they have one, and either all with a bias or all without. The three
// become
//
//	%q, %k, %v = matmul_qkv %x, [@norm,] @wq, @wk, @wv [, @bq, @bk, @bv] [{eps}]
//
// whose expansion (docs/IR.md) is exactly the three matmuls (after the one
// shared rmsnorm), so no number changes. The projections' results keep their
// names and uses; the ropes stay for fuse-rope to fold into the epilogue.
// Anchoring on the attention is what tells q from k from v: three matmuls of
// one input are not enough to know which is which.
func fuseQKV(m *ir.Module, c *Context) error {
	groups, removed := 0, 0
	for _, f := range m.Funcs {
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			if in.Op != ir.OpAttention || len(in.Args) < 3 {
				continue
			}
			q, okq := linearOf(throughRope(in.Args[0]))
			k, okk := linearOf(throughRope(in.Args[1]))
			v, okv := linearOf(in.Args[2])
			if !okq || !okk || !okv || q.in == k.in || q.in == v.in || k.in == v.in {
				continue
			}
			if !q.sameInput(k) || !q.sameInput(v) || !sameBiasing(q, k, v) {
				c.Logf("@%s: the projections of %s read different inputs or differ in bias", f.Name, in.Results[0])
				continue
			}
			refs, attrs := q.prologue()
			refs = append(refs, q.w, k.w, v.w)
			if q.bias != "" {
				refs = append(refs, q.bias, k.bias, v.bias)
			}
			results := []*ir.Value{q.result(), k.result(), v.result()}
			ok, why := fuseGroup(m, f, ir.OpMatMulQKV, []*ir.Value{q.x}, refs, attrs, results, []*ir.Instr{q.in, k.in, v.in})
			if !ok {
				c.Logf("@%s: q/k/v of %s not fused: %s", f.Name, in.Results[0], why)
				continue
			}
			groups++
			removed += 2
			i = f.Index(in) // the body shrank before the attention
		}
	}
	reportFused(c, groups, removed, "q/k/v projection triples -> matmul_qkv")
	return nil
}

// throughRope returns the input of the rope that defines v, or v itself
// when no rope does.
func throughRope(v *ir.Value) *ir.Value {
	if v != nil && v.Def != nil && v.Def.Op == ir.OpRope && len(v.Def.Args) > 0 {
		return v.Def.Args[0]
	}
	return v
}

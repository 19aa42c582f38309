package passes

import "github.com/omex-dev/omex/ir"

// fuseRope moves rotary position embeddings into the epilogue of the
// projection that feeds them, so q and k are rotated while they are still
// in registers instead of being written out and read back.
//
// Two patterns, each only when the projection's un-rotated output has no
// other use (else it would have to be computed twice):
//
//   - a matmul_qkv without epilogue whose q and k results are each rotated
//     by a rope, at the same %pos with the same theta, head_dim and layout:
//     it gains %pos and the rope attributes (heads from q's rope, kv_heads
//     from k's) and its q and k results become the ropes' results;
//   - a rope of a matmul or rmsnorm_matmul: one matmul_rope.
//
// The fused ops are defined as the rope applied to the projection's output
// (docs/IR.md), the same float32 operations in the same order.
func fuseRope(m *ir.Module, c *Context) error {
	groups, removed := 0, 0
	for _, f := range m.Funcs {
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			var fused *ir.Instr
			var why string
			switch in.Op {
			case ir.OpMatMulQKV:
				if fused, why = ropeIntoQKV(m, f, in); fused != nil {
					removed += 2
				}
			case ir.OpRope:
				if fused, why = ropeIntoMatMul(m, f, in); fused != nil {
					removed++
				}
			default:
				continue
			}
			if why != "" {
				c.Logf("@%s: %s", f.Name, why)
			}
			if fused != nil {
				groups++
				i = f.Index(fused) // go on from the fused op: what lies before it was seen
			}
		}
	}
	reportFused(c, groups, removed, "ropes -> epilogues of their projections")
	return nil
}

// soleRope returns the rope that is the one use of v, if there is one.
func soleRope(f *ir.Func, v *ir.Value) *ir.Instr {
	us := f.Uses()[v]
	if len(us) != 1 || useCount(f, v) != 1 || us[0].Op != ir.OpRope || us[0].Args[0] != v {
		return nil
	}
	return us[0]
}

// ropeIntoQKV gives a matmul_qkv its rope epilogue. It returns the fused
// instruction, or nil and why not when the pattern was there but could not
// be fused.
func ropeIntoQKV(m *ir.Module, f *ir.Func, qkv *ir.Instr) (*ir.Instr, string) {
	if qkv.Attrs.Has("theta") || len(qkv.Results) != 3 {
		return nil, ""
	}
	rq, rk := soleRope(f, qkv.Results[0]), soleRope(f, qkv.Results[1])
	if rq == nil || rk == nil {
		return nil, ""
	}
	if rq.Args[1] != rk.Args[1] {
		return nil, "q and k of " + qkv.Results[0].String() + " are rotated at different positions"
	}
	for _, a := range []string{"theta", "head_dim", "layout"} {
		qa, okq := rq.Attrs[a]
		ka, okk := rk.Attrs[a]
		if !okq || !okk || !qa.Equal(ka) {
			return nil, "q and k of " + qkv.Results[0].String() + " are rotated with different " + a
		}
	}
	attrs := qkv.Attrs.Clone()
	if attrs == nil {
		attrs = ir.Attrs{}
	}
	for _, a := range []string{"heads", "theta", "head_dim", "layout"} {
		attrs[a] = rq.Attrs[a]
	}
	attrs["kv_heads"] = rk.Attrs["heads"]
	args := []*ir.Value{qkv.Args[0], rq.Args[1]}
	results := []*ir.Value{rq.Results[0], rk.Results[0], qkv.Results[2]}
	ok, why := fuseGroup(m, f, ir.OpMatMulQKV, args, append([]string(nil), qkv.Refs...), attrs, results, []*ir.Instr{qkv, rq, rk})
	if !ok {
		return nil, "rope epilogue of " + qkv.Results[0].String() + " not fused: " + why
	}
	return results[0].Def, ""
}

// ropeIntoMatMul turns rope(matmul) into matmul_rope.
func ropeIntoMatMul(m *ir.Module, f *ir.Func, rope *ir.Instr) (*ir.Instr, string) {
	l, ok := linearOf(rope.Args[0])
	if !ok || soleRope(f, l.result()) != rope {
		return nil, ""
	}
	refs, attrs := l.prologue()
	refs = append(refs, l.w)
	if l.bias != "" {
		refs = append(refs, l.bias)
	}
	for n, a := range rope.Attrs {
		attrs[n] = a
	}
	r := rope.Results[0]
	if ok, why := fuseGroup(m, f, ir.OpMatMulRope, []*ir.Value{l.x, rope.Args[1]}, refs, attrs, []*ir.Value{r}, []*ir.Instr{l.in, rope}); !ok {
		return nil, "rope " + r.String() + " not fused: " + why
	}
	return r.Def, ""
}

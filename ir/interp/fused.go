package interp

import (
	"fmt"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/runtime/kernels"
)

// compileFused prepares a fused instruction. Each one runs the float32
// operations of its expansion (docs/IR.md) through the same functions the
// unfused ops use, in an order that gives the same values: the optional
// rmsnorm prologue into scratch, the matmuls (each plus its bias), then
// the epilogue (rope, SiLU·mul or the residual add).
func (ip *Interp) compileFused(o *operands, res []*slot) (func() error, error) {
	in := o.in
	x := o.args["x"]
	norm, err := o.vec("norm")
	if err != nil {
		return nil, err
	}
	eps, _ := in.Attrs.Float("eps")
	var h []float32
	// prologue returns the matmuls' input: x, or rmsnorm(x, norm) in
	// scratch kept across calls.
	prologue := func() []float32 {
		if norm == nil {
			return x.f
		}
		if cap(h) < x.n {
			h = make([]float32, x.n)
		}
		h = h[:x.n]
		rmsnormRows(h, x.f, norm, eps)
		return h
	}
	ws := map[string]*kernels.Matrix{}
	bs := map[string][]float32{}
	for _, role := range []string{"w", "wq", "wk", "wv", "wg", "wu"} {
		if ws[role], err = o.mat(role); err != nil {
			return nil, err
		}
	}
	for _, role := range []string{"bias", "bq", "bk", "bv", "bg", "bu"} {
		if bs[role], err = o.vec(role); err != nil {
			return nil, err
		}
	}
	pos := o.args["pos"]

	switch in.Op {
	case ir.OpRMSNormMatMul:
		// matmul(rmsnorm(x, norm), w [, bias])
		out, w, bias := res[0], ws["w"], bs["bias"]
		return func() error {
			hx := prologue()
			out.alloc()
			matmul(out.f, hx, x.shape[0], w, bias)
			return nil
		}, nil

	case ir.OpMatMulQKV:
		// q, k, v = matmul(h, wq [, bq]), matmul(h, wk [, bk]),
		// matmul(h, wv [, bv]); then, with the rope attributes,
		// q = rope(q, pos) with heads and k = rope(k, pos) with kv_heads.
		q, k, v := res[0], res[1], res[2]
		withRope := pos != nil
		rq, rk := ropeOf(in.Attrs, "heads"), ropeOf(in.Attrs, "kv_heads")
		wq, wk, wv, bq, bk, bv := ws["wq"], ws["wk"], ws["wv"], bs["bq"], bs["bk"], bs["bv"]
		return func() error {
			hx, n := prologue(), x.shape[0]
			q.alloc()
			k.alloc()
			v.alloc()
			matmul(q.f, hx, n, wq, bq)
			matmul(k.f, hx, n, wk, bk)
			matmul(v.f, hx, n, wv, bv)
			if !withRope {
				return nil
			}
			if err := ip.rope(q.f, n, int(pos.i[0]), rq); err != nil {
				return err
			}
			return ip.rope(k.f, n, int(pos.i[0]), rk)
		}, nil

	case ir.OpMatMulGateUp:
		// mul(silu(matmul(h, wg [, bg])), matmul(h, wu [, bu]))
		out, wg, wu, bg, bu := res[0], ws["wg"], ws["wu"], bs["bg"], bs["bu"]
		var up []float32
		return func() error {
			hx, n := prologue(), x.shape[0]
			out.alloc()
			if cap(up) < out.n {
				up = make([]float32, out.n)
			}
			up = up[:out.n]
			matmul(out.f, hx, n, wg, bg)
			matmul(up, hx, n, wu, bu)
			kernels.SiLU(out.f)
			kernels.Mul(out.f, up)
			return nil
		}, nil

	case ir.OpMatMulRope:
		// rope(matmul(h, w [, bias]), pos)
		out, r, w, bias := res[0], ropeOf(in.Attrs, "heads"), ws["w"], bs["bias"]
		return func() error {
			hx, n := prologue(), x.shape[0]
			out.alloc()
			matmul(out.f, hx, n, w, bias)
			return ip.rope(out.f, n, int(pos.i[0]), r)
		}, nil

	case ir.OpMatMulAdd:
		// add(matmul(x, w [, bias]), residual); float32 addition is
		// commutative, so add(residual, ...) is the same value.
		out, resid, w, bias := res[0], o.args["residual"], ws["w"], bs["bias"]
		return func() error {
			out.alloc()
			matmul(out.f, x.f, x.shape[0], w, bias)
			kernels.Add(out.f, resid.f)
			return nil
		}, nil
	}
	return nil, fmt.Errorf("the interpreter cannot execute fused op %s", in.Op)
}

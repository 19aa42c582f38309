package llvm

// sqrtIntrinsic is LLVM's square root: one instruction on every target
// here (sqrtsd, fsqrt), correctly rounded like Go's math.Sqrt.
const sqrtIntrinsic = "llvm.sqrt.f64"

// define emits the elementwise kernel. out/dst may alias x/src (the
// reference allows out == x), so those pointers are not noalias; each
// element is read before its own slot is written, which keeps that safe.
func (k Elementwise) define(mod *Module, m machine, table *constTable) {
	var f *Function
	if k.Op == OpRMSNorm {
		mod.Declare(sqrtIntrinsic, Double, Double)
		f = mod.NewFunction(SymbolPrefix+k.Name(), Void, m.attributes(),
			Param{"out", Ptr, "nocapture"},
			Param{"x", Ptr, "nocapture readonly"},
			Param{"w", Ptr, "nocapture readonly"},
			Param{"eps", Float, ""},
			Param{"consts", Ptr, "noalias nocapture readonly"})
	} else {
		f = mod.NewFunction(SymbolPrefix+k.Name(), Void, m.attributes(),
			Param{"dst", Ptr, "nocapture"},
			Param{"src", Ptr, "nocapture readonly"},
			Param{"consts", Ptr, "noalias nocapture readonly"})
	}
	entry := f.NewBlock("entry")
	body := f.NewBlock("body")
	kc := newConsts(table, f.Params()[len(f.Params())-1], entry)
	var end *Block
	switch k.Op {
	case OpRMSNorm:
		end = k.rmsnorm(f, body, kc, m.lanes)
	default:
		op := "fadd"
		if k.Op == OpMul {
			op = "fmul"
		}
		// dst[i] = dst[i] op src[i]
		end = lanewise(body, k.N, m.lanes, func(b *Block, t Type, i Value) {
			dp := b.GEP(Float, f.Param(0), i, "dp")
			d := b.Load(t, dp, 4, "d")
			s := b.Load(t, b.GEP(Float, f.Param(1), i, "sp"), 4, "s")
			b.Store(b.Bin(op, d, s, "r"), dp, 4)
		})
	}
	end.Ret(nil)
	kc.finish(body)
}

// rmsnorm is runtime/kernels.RMSNorm: ss = sum of x[i]*x[i] in order
// (one float32 chain, as the reference, so it is not vectorised), ss /=
// float32(N), ss += eps, ss = 1/float32(sqrt(float64(ss))), then
// out[i] = w[i] * (ss * x[i]) lane-wise.
func (k Elementwise) rmsnorm(f *Function, b *Block, kc *consts, lanes int) *Block {
	out, x, w, eps := f.Param(0), f.Param(1), f.Param(2), f.Param(3)
	b, sum := unrolled(b, "ss", k.N, 4, []Value{kc.Float32(Float, 0)}, func(b *Block, c Value, acc []Value) []Value {
		v := b.Load(Float, b.GEP(Float, x, c, "xp"), 4, "x")
		return []Value{b.FAdd(acc[0], b.FMul(v, v, "sq"), "ss")}
	})
	ss := b.FDiv(sum[0], kc.Float32(Float, float32(k.N)), "mean")
	ss = b.FAdd(ss, eps, "meps")
	root := b.Call(Double, sqrtIntrinsic, []Value{b.Cast("fpext", ss, Double, "d")}, "root")
	inv := b.FDiv(kc.Float32(Float, 1), b.Cast("fptrunc", root, Float, "rootf"), "inv")
	invv := b.Splat(inv, lanes, "invv")
	return lanewise(b, k.N, lanes, func(b *Block, t Type, i Value) {
		s := inv
		if t.Lanes() > 0 {
			s = invv
		}
		xv := b.Load(t, b.GEP(Float, x, i, "xp"), 4, "x")
		wv := b.Load(t, b.GEP(Float, w, i, "wp"), 4, "w")
		b.Store(b.FMul(wv, b.FMul(s, xv, "sx"), "o"), b.GEP(Float, out, i, "op"), 4)
	})
}

// lanewise runs op over elements 0..n-1: a loop over whole vectors of
// lanes floats (t = <lanes x float>), then the rest one float at a time
// (t = float), straight-line. i is the first element's index (i64).
func lanewise(b *Block, n, lanes int, op func(b *Block, t Type, i Value)) *Block {
	vecs := n / lanes
	if vecs > 0 {
		lp := CountedLoop(b, "vec", ConstInt(I64, 0), ConstInt(I64, int64(vecs*lanes)), int64(lanes), nil, func(b *Block, i Value, _ []Value) (*Block, []Value) {
			op(b, Vector(lanes, Float), i)
			return b, nil
		})
		b = lp.Exit
	}
	for i := vecs * lanes; i < n; i++ {
		op(b, Float, ConstInt(I64, int64(i)))
	}
	return b
}

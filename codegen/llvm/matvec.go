package llvm

import (
	"github.com/omex-dev/omex/tensor"
)

// define emits the matvec. Each SIMD lane owns one weight row and sums
// w[row][k]*x[k] for k = 0..K-1 in order with a separate multiply and add
// (never fused): the float32 operations of runtime/kernels' dot product,
// so every output is the reference's bit for bit. Loops over the row
// groups handle unroll groups at a time (independent accumulator chains
// hide the add latency), then the rest one at a time; the last group,
// when N is not a multiple of the lanes, stores only its real rows.
func (k MatVec) define(mod *Module, m machine, table *constTable) {
	f := mod.NewFunction(SymbolPrefix+k.Name(), Void, m.attributes(),
		Param{"out", Ptr, "noalias nocapture"},
		Param{"w", Ptr, "noalias nocapture readonly"},
		Param{"s", Ptr, "noalias nocapture readonly"},
		Param{"x", Ptr, "noalias nocapture readonly"},
		Param{"g0", I64, ""},
		Param{"g1", I64, ""},
		Param{"consts", Ptr, "noalias nocapture readonly"})
	entry := f.NewBlock("entry")
	body := f.NewBlock("body")
	g := matvecGen{k: k, m: m, f: f, kc: newConsts(table, f.Param(6), entry), lanes: m.lanes}
	g.body(body)
	g.kc.finish(body)
}

// matvecGen carries one matvec's emission state.
type matvecGen struct {
	k     MatVec
	m     machine
	f     *Function
	kc    *consts
	lanes int
}

func (g matvecGen) out() Value { return g.f.Param(0) }
func (g matvecGen) w() Value   { return g.f.Param(1) }
func (g matvecGen) s() Value   { return g.f.Param(2) }
func (g matvecGen) x() Value   { return g.f.Param(3) }

func (g matvecGen) body(entry *Block) {
	g0, g1 := g.f.Param(4), g.f.Param(5)
	full := int64(g.k.N / g.lanes) // groups whose rows are all real
	u := g.m.unroll

	// Blocks of u groups while g+u <= min(g1, full).
	next, start := entry, g0
	if u > 1 {
		hi := entry.Select(entry.ICmp("slt", g1, ConstInt(I64, full), "g1.lt"), g1, ConstInt(I64, full), "hi")
		to := entry.Add(hi, ConstInt(I64, int64(1-u)), "hi.u")
		lp := CountedLoop(entry, "blk", g0, to, int64(u), nil, func(b *Block, gi Value, _ []Value) (*Block, []Value) {
			b, accs := g.groups(b, gi, u)
			for j, acc := range accs {
				gj := b.Add(gi, ConstInt(I64, int64(j)), "gj")
				g.storeFull(b, gj, acc)
			}
			return b, nil
		})
		next, start = lp.Exit, lp.End
	}
	// The remaining groups one at a time.
	lp := CountedLoop(next, "one", start, g1, 1, nil, func(b *Block, gi Value, _ []Value) (*Block, []Value) {
		b, accs := g.groups(b, gi, 1)
		tail := g.k.N % g.lanes
		if tail == 0 {
			g.storeFull(b, gi, accs[0])
			return b, nil
		}
		// Only group `full` is partial.
		fullB, partB, join := g.f.NewBlock("store.full"), g.f.NewBlock("store.part"), g.f.NewBlock("store.done")
		b.CondBr(b.ICmp("slt", gi, ConstInt(I64, full), "isfull"), fullB, partB)
		g.storeFull(fullB, gi, accs[0])
		fullB.Br(join)
		for j := range tail {
			e := partB.ExtractElement(accs[0], j, "lane")
			idx := partB.Add(partB.Mul(gi, ConstInt(I64, int64(g.lanes)), "row0"), ConstInt(I64, int64(j)), "row")
			partB.Store(e, partB.GEP(Float, g.out(), idx, "po"), 4)
		}
		partB.Br(join)
		return join, nil
	})
	lp.Exit.Ret(nil)
}

// storeFull writes group gi's accumulator to out[gi*lanes ...].
func (g matvecGen) storeFull(b *Block, gi, acc Value) {
	idx := b.Mul(gi, ConstInt(I64, int64(g.lanes)), "orow")
	b.Store(acc, b.GEP(Float, g.out(), idx, "op"), 4)
}

// groups emits the dot products of the n groups gi..gi+n-1 and returns
// the block it ended in and one accumulator vector per group.
func (g matvecGen) groups(b *Block, gi Value, n int) (*Block, []Value) {
	vf := Vector(g.lanes, Float)
	wbase := make([]Value, n)
	sbase := make([]Value, n)
	accs := make([]Value, n)
	for j := range n {
		gj := b.Add(gi, ConstInt(I64, int64(j)), "g")
		wbase[j] = b.ByteOffset(g.w(), b.Mul(gj, ConstInt(I64, int64(g.k.GroupBytes())), "wo"), "wg")
		if g.k.DType.Quantized() {
			sbase[j] = b.GEP(Float, g.s(), b.Mul(gj, ConstInt(I64, int64(g.k.GroupScales())), "so"), "sg")
		}
		accs[j] = g.kc.Float32(vf, 0) // +0.0: the reference's sum starts at 0
	}
	if !g.k.DType.Quantized() {
		return unrolled(b, "k", g.k.K, 4, accs, func(b *Block, c Value, accs []Value) []Value {
			xb := g.broadcastX(b, c)
			out := make([]Value, n)
			for j := range n {
				out[j] = b.FAdd(accs[j], b.FMul(g.weights(b, wbase[j], c), xb, "p"), "acc")
			}
			return out
		})
	}
	// Quantized: one scale vector per group per block of 32 columns; the
	// block's columns are unrolled.
	nb := g.k.K / tensor.BlockSize
	lp := CountedLoop(b, "blk32", ConstInt(I64, 0), ConstInt(I64, int64(nb)), 1, accs, func(b *Block, bi Value, accs []Value) (*Block, []Value) {
		scales := make([]Value, n)
		for j := range n {
			p := b.GEP(Float, sbase[j], b.Mul(bi, ConstInt(I64, int64(g.lanes)), "sidx"), "sp")
			scales[j] = b.Load(vf, p, 4, "scale")
		}
		col0 := b.Mul(bi, ConstInt(I64, tensor.BlockSize), "c0")
		out := append([]Value(nil), accs...)
		if g.k.DType == tensor.Q8_0 {
			for c := range tensor.BlockSize {
				col := b.Add(col0, ConstInt(I64, int64(c)), "c")
				xb := g.broadcastX(b, col)
				for j := range n {
					qp := b.ByteOffset(wbase[j], b.Mul(col, ConstInt(I64, int64(g.lanes)), "qo"), "qp")
					q := b.Load(Vector(g.lanes, I8), qp, 1, "q")
					wv := b.FMul(g.intToFloat(b, b.Cast("sext", q, Vector(g.lanes, I32), "q32")), scales[j], "wq")
					out[j] = b.FAdd(out[j], b.FMul(wv, xb, "p"), "acc")
				}
			}
			return b, out
		}
		// Q4_0: byte [k/2][j] holds column k (low nibble) and k+1 (high).
		vi := Vector(g.lanes, I32)
		for c := 0; c < tensor.BlockSize; c += 2 {
			col := b.Add(col0, ConstInt(I64, int64(c)), "c")
			col1 := b.Add(col0, ConstInt(I64, int64(c+1)), "c1")
			xlo, xhi := g.broadcastX(b, col), g.broadcastX(b, col1)
			for j := range n {
				off := b.Mul(b.Add(b.Mul(bi, ConstInt(I64, tensor.BlockSize/2), "pb"), ConstInt(I64, int64(c/2)), "pc"), ConstInt(I64, int64(g.lanes)), "qo")
				// Sign-extended, then masked: see halfToFloat on zext.
				q := b.Cast("sext", b.Load(Vector(g.lanes, I8), b.ByteOffset(wbase[j], off, "qp"), 1, "q"), vi, "q32")
				eight, mask := g.kc.Int(vi, 8), g.kc.Int(vi, 0x0f)
				lo := b.Bin("sub", b.Bin("and", q, mask, "lo"), eight, "lo8")
				hi := b.Bin("sub", b.Bin("and", b.Bin("lshr", q, ConstInt(vi, 4), "hs"), mask, "hi"), eight, "hi8")
				wlo := b.FMul(g.intToFloat(b, lo), scales[j], "wlo")
				out[j] = b.FAdd(out[j], b.FMul(wlo, xlo, "p"), "acc")
				whi := b.FMul(g.intToFloat(b, hi), scales[j], "whi")
				out[j] = b.FAdd(out[j], b.FMul(whi, xhi, "p"), "acc")
			}
		}
		return b, out
	})
	return lp.Exit, lp.Results
}

// broadcastX is x[c] in every lane.
func (g matvecGen) broadcastX(b *Block, c Value) Value {
	xs := b.Load(Float, b.GEP(Float, g.x(), c, "xp"), 4, "xk")
	return b.Splat(xs, g.lanes, "xb")
}

// weights loads column c of a group of an unquantized weight as floats.
func (g matvecGen) weights(b *Block, wbase, c Value) Value {
	l := g.lanes
	// A group stores its K columns one after another, l elements each.
	colBytes := int64(g.k.GroupBytes() / g.k.K)
	p := b.ByteOffset(wbase, b.Mul(c, ConstInt(I64, colBytes), "wo"), "wp")
	switch g.k.DType {
	case tensor.F32:
		return b.Load(Vector(l, Float), p, 4, "w")
	case tensor.F16:
		if g.m.nativeHalf {
			return b.Cast("fpext", b.Load(Vector(l, Half), p, 2, "wh"), Vector(l, Float), "w")
		}
		return halfToFloat(b, g.kc, b.Load(Vector(l, I16), p, 2, "wh"))
	default: // BF16: the top half of a float32 (the shift drops the extension)
		h := b.Cast("sext", b.Load(Vector(l, I16), p, 2, "wh"), Vector(l, I32), "w32")
		return b.Cast("bitcast", b.Bin("shl", h, ConstInt(Vector(l, I32), 16), "wsh"), Vector(l, Float), "w")
	}
}

// intToFloat converts small integers (quantized codes) to float, exactly.
func (g matvecGen) intToFloat(b *Block, v Value) Value {
	return b.Cast("sitofp", v, Vector(v.Type().Lanes(), Float), "qf")
}

// unrolled emits columns 0..n-1 of a straight-line step: a loop doing r
// columns per iteration, then the n%r left over. Values in init are
// carried across columns; step gets the column index (i64).
func unrolled(b *Block, hint string, n, r int, init []Value, step func(b *Block, c Value, carried []Value) []Value) (*Block, []Value) {
	r = max(min(r, n), 1)
	main := n - n%r
	cur := init
	if main > 0 {
		lp := CountedLoop(b, hint, ConstInt(I64, 0), ConstInt(I64, int64(main)), int64(r), init, func(b *Block, i Value, carried []Value) (*Block, []Value) {
			for u := range r {
				c := i
				if u > 0 {
					c = b.Add(i, ConstInt(I64, int64(u)), "col")
				}
				carried = step(b, c, carried)
			}
			return b, carried
		})
		b, cur = lp.Exit, lp.Results
	}
	for c := main; c < n; c++ {
		cur = step(b, ConstInt(I64, int64(c)), cur)
	}
	return b, cur
}

package llvm

// halfToFloat converts a vector of IEEE half bit patterns (<n x i16>) to
// float exactly as runtime/kernels.F16ToF32 does, with integer operations
// only: the path for targets without a half-conversion instruction (SSE2),
// where LLVM's own fpext would call a runtime helper. Normal halves rebias
// the exponent, subnormals are frac * 2^-24 (exact in float32), and
// infinities and NaNs keep their payload; the sign is or-ed in last, so
// signed zeros survive. The bits are sign-extended, not zero-extended
// (every mask below ignores bits 16-31): on SSE2 a zero extension pairs
// with a zero vector that LLVM may load from a constant pool, which the
// Go linker cannot relocate.
func halfToFloat(b *Block, kc *consts, h Value) Value {
	n := h.Type().Lanes()
	ti, tf := Vector(n, I32), Vector(n, Float)
	imm := func(v int64) Value { return ConstInt(ti, v) } // shift counts: immediates, never a constant pool
	x := b.Cast("sext", h, ti, "h")
	sign := b.Bin("shl", b.Bin("and", x, kc.Int(ti, 0x8000), "h.s"), imm(16), "h.sign")
	exp := b.Bin("and", b.Bin("lshr", x, imm(10), "h.e"), kc.Int(ti, 0x1f), "h.exp")
	frac := b.Bin("and", x, kc.Int(ti, 0x3ff), "h.frac")
	fracHi := b.Bin("shl", frac, imm(13), "h.fhi")
	normal := b.Bin("or", b.Bin("shl", b.Add(exp, kc.Int(ti, 112), "h.eb"), imm(23), "h.ebs"), fracHi, "h.norm")
	special := b.Bin("or", fracHi, kc.Int(ti, 0x7f800000), "h.inf")
	subf := b.FMul(b.Cast("sitofp", frac, tf, "h.ff"), kc.Float32(tf, 1.0/(1<<24)), "h.subf")
	sub := b.Cast("bitcast", subf, ti, "h.sub")
	isSpecial := b.ICmp("eq", exp, kc.Int(ti, 0x1f), "h.isinf")
	isSub := b.ICmp("eq", exp, kc.Int(ti, 0), "h.issub")
	mag := b.Select(isSpecial, special, b.Select(isSub, sub, normal, "h.m1"), "h.mag")
	return b.Cast("bitcast", b.Bin("or", mag, sign, "h.bits"), tf, "h.f")
}

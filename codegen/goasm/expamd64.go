package goasm

import (
	"fmt"
	"strings"
)

// expAsmAMD64 is exp_amd64_gen.s: the constant tables and the assembly of
// the exp kernels of the amd64 ISAs among isas, or "" when there are none.
func expAsmAMD64(isas []ISA) string {
	var b strings.Builder
	for _, i := range isas {
		if i.GOARCH() != "amd64" || expGroup(i) == 0 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(archAsmHeader("amd64"))
		}
		e := expAMD64{isa: i}
		b.WriteString(e.table())
		for _, f := range []func() string{e.expSub, e.silu, e.siluMul, e.div} {
			b.WriteString("\n")
			b.WriteString(f())
		}
	}
	return b.String()
}

// expAMD64 emits one amd64 ISA's exp kernels. AVX2 works on 4 float32
// lanes (X registers) widened to 4 float64 (Y); AVX-512 on 8 (Y, Z), with
// mask registers for the lane tests. Registers 1..9 are the exp core's,
// 10..12 the float32 results, 15 a broadcast argument.
type expAMD64 struct {
	isa ISA
}

func (e expAMD64) avx512() bool { return e.isa == AVX512 }

// f32 and f64 name vector register r holding float32 or float64 lanes.
func (e expAMD64) f32(r int) string {
	if e.avx512() {
		return fmt.Sprintf("Y%d", r)
	}
	return fmt.Sprintf("X%d", r)
}

func (e expAMD64) f64(r int) string {
	if e.avx512() {
		return fmt.Sprintf("Z%d", r)
	}
	return fmt.Sprintf("Y%d", r)
}

func (e expAMD64) sym() string { return "expc_" + string(e.isa) + "<>" }

// slot is the byte size of constant c in the table: AVX2 reads every
// constant as a whole 32-byte vector; AVX-512 broadcasts float64 ones.
func (e expAMD64) slot(c expConst) int {
	if e.avx512() && !c.f32 {
		return 8
	}
	return 32
}

// at is the memory operand of the constant named name.
func (e expAMD64) at(name string) string {
	off := 0
	for _, c := range expConsts {
		if c.name == name {
			return fmt.Sprintf("%s+%d(SB)", e.sym(), off)
		}
		off += e.slot(c)
	}
	panic("goasm: no exp constant " + name)
}

// table is the DATA of the constants.
func (e expAMD64) table() string {
	var b strings.Builder
	off := 0
	for _, c := range expConsts {
		size, n := 8, e.slot(c)/8
		if c.f32 {
			size, n = 4, 8
		}
		fmt.Fprintf(&b, "// %s\n", c.name)
		for range n {
			fmt.Fprintf(&b, "DATA %s+%d(SB)/%d, $0x%x\n", e.sym(), off, size, c.bits)
			off += size
		}
	}
	fmt.Fprintf(&b, "GLOBL %s(SB), RODATA|NOPTR, $%d\n", e.sym(), off)
	return b.String()
}

// withConst writes op with a float64 constant as its memory operand
// (broadcast on AVX-512): "op const, src, dst".
func (e expAMD64) withConst(a *asmText, op, name, src, dst string) {
	if e.avx512() {
		op += ".BCST"
	}
	a.op("%s %s, %s, %s", op, e.at(name), src, dst)
}

// core computes exp of the float32 lanes of register in into the float32
// lanes of register out, or jumps to stop when a lane must be left to the
// scalar reference (see expkernels.go).
func (e expAMD64) core(a *asmText, in, out int) {
	r := e.f64
	a.comment("exp: k = round(a*log2e), r = a - k*ln2hi - k*ln2lo, float64")
	a.op("VCVTPS2PD %s, %s", e.f32(in), r(1))
	e.withConst(a, "VMULPD", "log2e", r(1), r(2))
	if e.avx512() {
		a.op("VRNDSCALEPD $0, %s, %s", r(2), r(2))
	} else {
		a.op("VROUNDPD $0, %s, %s", r(2), r(2))
	}
	e.withConst(a, "VMULPD", "ln2hi", r(2), r(3))
	a.op("VSUBPD %s, %s, %s", r(3), r(1), r(3))
	e.withConst(a, "VMULPD", "ln2lo", r(2), r(4))
	a.op("VSUBPD %s, %s, %s", r(4), r(3), r(3))
	a.comment("exp(r): Taylor polynomial of degree 13, Horner")
	if e.avx512() {
		a.op("VBROADCASTSD %s, %s", e.at("c13"), r(4))
	} else {
		a.op("VMOVUPD %s, %s", e.at("c13"), r(4))
	}
	for i := 12; i >= 0; i-- {
		a.op("VMULPD %s, %s, %s", r(3), r(4), r(4))
		e.withConst(a, "VADDPD", fmt.Sprintf("c%d", i), r(4), r(4))
	}
	a.comment("times 2^k (k + 1023 in the exponent field)")
	if e.avx512() {
		a.op("VCVTPD2DQ %s, Y5", r(2))
		a.op("VPMOVSXDQ Y5, Z5")
	} else {
		a.op("VCVTPD2DQY %s, X5", r(2))
		a.op("VPMOVSXDQ X5, Y5")
	}
	e.withConst(a, "VPADDQ", "bias", r(5), r(5))
	a.op("VPSLLQ $52, %s, %s", r(5), r(5))
	a.op("VMULPD %s, %s, %s", r(5), r(4), r(4))
	a.comment("lanes left to the scalar reference: near a float32 midpoint, or outside [lo, hi] and not below zero")
	if e.avx512() {
		e.withConst(a, "VPANDQ", "mask29", r(4), r(6))
		e.withConst(a, "VPSUBQ", "midlo", r(6), r(6))
		a.op("VPCMPUQ.BCST $1, %s, Z6, K1", e.at("window"))
		a.op("VCMPPD.BCST $0x09, %s, Z1, K2", e.at("lo"))
		a.op("VCMPPD.BCST $0x01, %s, Z1, K3", e.at("zero"))
		a.op("KANDNB K2, K3, K2")
		a.op("KANDNB K1, K3, K1")
		a.op("KORB K1, K2, K2")
		a.op("VCMPPD.BCST $0x06, %s, Z1, K1", e.at("hi"))
		a.op("KORB K1, K2, K2")
		a.op("KORTESTB K2, K2")
		a.op("JNZ stop")
		a.op("KNOTB K3, K3")
		a.op("VMOVAPD.Z Z4, K3, Z4")
		a.op("VCVTPD2PS Z4, Y%d", out)
		return
	}
	a.op("VPAND %s, Y4, Y6", e.at("mask29"))
	a.op("VPSUBQ %s, Y6, Y6", e.at("midlo"))
	a.op("VPCMPGTQ %s, Y6, Y7", e.at("minus1"))
	a.op("VMOVDQU %s, Y8", e.at("window"))
	a.op("VPCMPGTQ Y6, Y8, Y8")
	a.op("VPAND Y8, Y7, Y7")
	a.op("VCMPPD $0x09, %s, Y1, Y8", e.at("lo"))
	a.op("VCMPPD $0x01, %s, Y1, Y9", e.at("zero"))
	a.op("VANDNPD Y8, Y9, Y8")
	a.op("VANDNPD Y7, Y9, Y7")
	a.op("VORPD Y7, Y8, Y8")
	a.op("VCMPPD $0x06, %s, Y1, Y7", e.at("hi"))
	a.op("VORPD Y7, Y8, Y8")
	a.op("VMOVMSKPD Y8, BX")
	a.op("TESTL BX, BX")
	a.op("JNZ stop")
	a.op("VANDNPD Y4, Y9, Y4")
	a.op("VCVTPD2PSY Y4, X%d", out)
}

// loop writes the common frame of a kernel: AX counts elements done up
// to CX; body computes the group at AX; the count is returned at retOff.
func (e expAMD64) loop(a *asmText, body func(), retOff int) {
	a.op("XORQ AX, AX")
	a.label("loop")
	a.op("CMPQ AX, CX")
	a.op("JGE stop")
	body()
	a.op("ADDQ $%d, AX", expGroup(e.isa))
	a.op("JMP loop")
	a.label("stop")
	if retOff >= 0 {
		a.op("MOVQ AX, ret+%d(FP)", retOff)
	}
	a.op("VZEROUPPER")
	a.op("RET")
}

// expSub: out[i] = exp(x[i] - m).
func (e expAMD64) expSub() string {
	var a asmText
	fmt.Fprintf(&a.b, "// func expsub_%s_asm(out, x *float32, n int, m float32) int\n", e.isa)
	fmt.Fprintf(&a.b, "TEXT ·expsub_%s_asm(SB), NOSPLIT, $0-40\n", e.isa)
	a.op("MOVQ out+0(FP), DI")
	a.op("MOVQ x+8(FP), SI")
	a.op("MOVQ n+16(FP), CX")
	a.op("VBROADCASTSS m+24(FP), %s", e.f32(15))
	e.loop(&a, func() {
		a.op("VMOVUPS (SI)(AX*4), %s", e.f32(0))
		a.op("VSUBPS %s, %s, %s", e.f32(15), e.f32(0), e.f32(0))
		e.core(&a, 0, 10)
		a.op("VMOVUPS %s, (DI)(AX*4)", e.f32(10))
	}, 32)
	return a.b.String()
}

// siluBody writes v * (1 / (1 + exp(-v))) of the group at (SI)(AX*4)
// into register 10, keeping v in register 0.
func (e expAMD64) siluBody(a *asmText) {
	f := e.f32
	a.op("VMOVUPS (SI)(AX*4), %s", f(0))
	a.op("VXORPS %s, %s, %s", e.at("sign32"), f(0), f(11))
	e.core(a, 11, 10)
	a.op("VADDPS %s, %s, %s", e.at("one32"), f(10), f(10))
	a.op("VMOVUPS %s, %s", e.at("one32"), f(12))
	a.op("VDIVPS %s, %s, %s", f(10), f(12), f(10))
	a.op("VMULPS %s, %s, %s", f(10), f(0), f(10))
}

// silu: x[i] = silu(x[i]).
func (e expAMD64) silu() string {
	var a asmText
	fmt.Fprintf(&a.b, "// func silu_%s_asm(x *float32, n int) int\n", e.isa)
	fmt.Fprintf(&a.b, "TEXT ·silu_%s_asm(SB), NOSPLIT, $0-24\n", e.isa)
	a.op("MOVQ x+0(FP), SI")
	a.op("MOVQ n+8(FP), CX")
	e.loop(&a, func() {
		e.siluBody(&a)
		a.op("VMOVUPS %s, (SI)(AX*4)", e.f32(10))
	}, 16)
	return a.b.String()
}

// siluMul: gate[i] = silu(gate[i]) * up[i].
func (e expAMD64) siluMul() string {
	var a asmText
	fmt.Fprintf(&a.b, "// func silumul_%s_asm(gate, up *float32, n int) int\n", e.isa)
	fmt.Fprintf(&a.b, "TEXT ·silumul_%s_asm(SB), NOSPLIT, $0-32\n", e.isa)
	a.op("MOVQ gate+0(FP), SI")
	a.op("MOVQ up+8(FP), DX")
	a.op("MOVQ n+16(FP), CX")
	e.loop(&a, func() {
		e.siluBody(&a)
		a.op("VMULPS (DX)(AX*4), %s, %s", e.f32(10), e.f32(10))
		a.op("VMOVUPS %s, (SI)(AX*4)", e.f32(10))
	}, 24)
	return a.b.String()
}

// div: x[i] /= d (softmax's normalization).
func (e expAMD64) div() string {
	var a asmText
	fmt.Fprintf(&a.b, "// func div_%s_asm(x *float32, n int, d float32)\n", e.isa)
	fmt.Fprintf(&a.b, "TEXT ·div_%s_asm(SB), NOSPLIT, $0-20\n", e.isa)
	a.op("MOVQ x+0(FP), SI")
	a.op("MOVQ n+8(FP), CX")
	a.op("VBROADCASTSS d+16(FP), %s", e.f32(15))
	e.loop(&a, func() {
		a.op("VMOVUPS (SI)(AX*4), %s", e.f32(0))
		a.op("VDIVPS %s, %s, %s", e.f32(15), e.f32(0), e.f32(0))
		a.op("VMOVUPS %s, (SI)(AX*4)", e.f32(0))
	}, -1)
	return a.b.String()
}

package goasm

import (
	"fmt"
	"strings"
)

// expAsmARM64 is exp_arm64_gen.s: the NEON exp kernels (the same method
// as expamd64.go, on two float64 lanes at a time), or "" when isas has no
// NEON.
func expAsmARM64(isas []ISA) string {
	for _, i := range isas {
		if i == NEON {
			var b strings.Builder
			b.WriteString(archAsmHeader("arm64"))
			e := expNEON{}
			b.WriteString(e.table())
			for _, f := range []func() string{e.expSub, e.silu, e.siluMul, e.div} {
				b.WriteString("\n")
				b.WriteString(f())
			}
			return b.String()
		}
	}
	return ""
}

// expNEON emits the NEON exp kernels. A group is 4 float32 lanes (V0 in,
// V10 out), computed as two halves of two float64 lanes in V1..V9; V11
// collects the lanes to leave to the scalar reference. The float64
// constants sit in V16..V25 (two copies each), 1.0f in V26, the
// broadcast argument (m, d) in V28, the Taylor coefficient c13 in V29;
// c12..c0 are loaded from the table as the polynomial needs them (R10).
type expNEON struct{}

const expNEONSym = "expc_neon<>"

// neonConstRegs maps the constants kept in registers to theirs.
var neonConstRegs = map[string]int{
	"log2e": 16, "ln2hi": 17, "ln2lo": 18, "bias": 19, "mask29": 20, "midlo": 21,
	"window": 22, "lo": 23, "zero": 24, "hi": 25, "one32": 26, "c13": 29,
}

// at is the table offset of the constant named name (16 bytes each).
func (expNEON) at(name string) int {
	for i, c := range expConsts {
		if c.name == name {
			return 16 * i
		}
	}
	panic("goasm: no exp constant " + name)
}

func (e expNEON) table() string {
	var b strings.Builder
	off := 0
	for _, c := range expConsts {
		fmt.Fprintf(&b, "// %s\n", c.name)
		size, n := 8, 2
		if c.f32 {
			size, n = 4, 4
		}
		for range n {
			fmt.Fprintf(&b, "DATA %s+%d(SB)/%d, $0x%x\n", expNEONSym, off, size, c.bits)
			off += size
		}
	}
	fmt.Fprintf(&b, "GLOBL %s(SB), RODATA|NOPTR, $%d\n", expNEONSym, off)
	return b.String()
}

func (e expNEON) neon(a *asmText, i neonInst) { a.op("%s", i.line()) }

// prologue loads the register constants.
func (e expNEON) prologue(a *asmText) {
	for _, name := range []string{"log2e", "ln2hi", "ln2lo", "bias", "mask29", "midlo", "window", "lo", "zero", "hi", "one32", "c13"} {
		a.op("MOVD $%s+%d(SB), R9", expNEONSym, e.at(name))
		a.op("VLD1 (R9), [V%d.D2]", neonConstRegs[name])
	}
}

// core computes exp of the 4 float32 lanes of register in into V10, or
// branches to stop when a lane must be left to the scalar reference.
func (e expNEON) core(a *asmText, in int) {
	const (
		A, K, R, P, E, T, M1, M2, Z, O, B = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
	)
	a.op("VEOR V%d.B16, V%d.B16, V%d.B16", B, B, B)
	for half := range 2 {
		a.comment("lanes %d..%d: exp in float64", 2*half, 2*half+1)
		if half == 0 {
			e.neon(a, fcvtl2d(A, in))
		} else {
			e.neon(a, fcvtl2_2d(A, in))
		}
		e.neon(a, fmul2d(K, A, neonConstRegs["log2e"]))
		e.neon(a, frintn2d(K, K))
		e.neon(a, fmul2d(T, K, neonConstRegs["ln2hi"]))
		e.neon(a, fsub2d(R, A, T))
		e.neon(a, fmul2d(T, K, neonConstRegs["ln2lo"]))
		e.neon(a, fsub2d(R, R, T))
		e.neon(a, orr16b(P, neonConstRegs["c13"], neonConstRegs["c13"]))
		a.op("MOVD $%s+%d(SB), R10", expNEONSym, e.at("c12"))
		for i := 12; i >= 0; i-- {
			// c12 .. c0 are consecutive in the table, in that order
			// backwards: walk down.
			a.op("VLD1 (R10), [V%d.D2]", T)
			if i > 0 {
				a.op("SUB $16, R10, R10")
			}
			e.neon(a, fmul2d(P, P, R))
			e.neon(a, fadd2d(P, P, T))
		}
		e.neon(a, fcvtzs2d(E, K))
		e.neon(a, add2d(E, E, neonConstRegs["bias"]))
		e.neon(a, shl2d52(E, E))
		e.neon(a, fmul2d(P, P, E))
		a.comment("lanes to leave: near a float32 midpoint, or outside [lo, hi] and not below zero")
		e.neon(a, and16b(T, P, neonConstRegs["mask29"]))
		e.neon(a, sub2d(T, T, neonConstRegs["midlo"]))
		e.neon(a, cmhi2d(M1, neonConstRegs["window"], T))
		e.neon(a, fcmge2d(M2, A, neonConstRegs["lo"]))
		e.neon(a, fcmgt2d(Z, neonConstRegs["zero"], A))
		e.neon(a, orr16b(M2, M2, Z))
		e.neon(a, mvn16b(M2, M2))
		e.neon(a, bic16b(M1, M1, Z))
		e.neon(a, orr16b(M1, M1, M2))
		e.neon(a, fcmge2d(M2, neonConstRegs["hi"], A))
		e.neon(a, orn16b(M1, M1, M2))
		e.neon(a, orr16b(B, B, M1))
		e.neon(a, bic16b(P, P, Z))
		if half == 0 {
			e.neon(a, fcvtn2s(O, P))
		} else {
			e.neon(a, fcvtn2_4s(O, P))
		}
	}
	a.op("VMOV V%d.D[0], R11", B)
	a.op("VMOV V%d.D[1], R12", B)
	a.op("ORR R11, R12, R11")
	a.op("CBNZ R11, stop")
}

// loop writes a kernel's frame: R5 counts elements done up to R3; body
// computes the group at R5 (R6 = its byte offset); the count is returned
// at retOff (none when negative).
func (e expNEON) loop(a *asmText, body func(), retOff int) {
	a.op("MOVD $0, R5")
	a.label("loop")
	a.op("CMP R3, R5")
	a.op("BGE stop")
	a.op("LSL $2, R5, R6")
	body()
	a.op("ADD $4, R5, R5")
	a.op("B loop")
	a.label("stop")
	if retOff >= 0 {
		a.op("MOVD R5, ret+%d(FP)", retOff)
	}
	a.op("RET")
}

func (e expNEON) expSub() string {
	var a asmText
	a.b.WriteString("// func expsub_neon_asm(out, x *float32, n int, m float32) int\n")
	a.b.WriteString("TEXT ·expsub_neon_asm(SB), NOSPLIT, $0-40\n")
	a.op("MOVD out+0(FP), R0")
	a.op("MOVD x+8(FP), R1")
	a.op("MOVD n+16(FP), R3")
	a.op("FMOVS m+24(FP), F28")
	a.op("VDUP V28.S[0], V28.S4")
	e.prologue(&a)
	e.loop(&a, func() {
		a.op("ADD R6, R1, R7")
		a.op("VLD1 (R7), [V0.S4]")
		e.neon(&a, fsub4s(0, 0, 28))
		e.core(&a, 0)
		a.op("ADD R6, R0, R7")
		a.op("VST1 [V10.S4], (R7)")
	}, 32)
	return a.b.String()
}

// siluBody writes v * (1 / (1 + exp(-v))) of the group at R1+R6 into
// V10, keeping v in V0.
func (e expNEON) siluBody(a *asmText) {
	a.op("ADD R6, R1, R7")
	a.op("VLD1 (R7), [V0.S4]")
	e.neon(a, fneg4s(12, 0))
	e.core(a, 12)
	one := neonConstRegs["one32"]
	e.neon(a, fadd4s(10, 10, one))
	e.neon(a, fdiv4s(10, one, 10))
	e.neon(a, fmul4s(10, 0, 10))
}

func (e expNEON) silu() string {
	var a asmText
	a.b.WriteString("// func silu_neon_asm(x *float32, n int) int\n")
	a.b.WriteString("TEXT ·silu_neon_asm(SB), NOSPLIT, $0-24\n")
	a.op("MOVD x+0(FP), R1")
	a.op("MOVD n+8(FP), R3")
	e.prologue(&a)
	e.loop(&a, func() {
		e.siluBody(&a)
		a.op("VST1 [V10.S4], (R7)")
	}, 16)
	return a.b.String()
}

func (e expNEON) siluMul() string {
	var a asmText
	a.b.WriteString("// func silumul_neon_asm(gate, up *float32, n int) int\n")
	a.b.WriteString("TEXT ·silumul_neon_asm(SB), NOSPLIT, $0-32\n")
	a.op("MOVD gate+0(FP), R1")
	a.op("MOVD up+8(FP), R2")
	a.op("MOVD n+16(FP), R3")
	e.prologue(&a)
	e.loop(&a, func() {
		e.siluBody(&a)
		a.op("ADD R6, R2, R8")
		a.op("VLD1 (R8), [V13.S4]")
		e.neon(&a, fmul4s(10, 10, 13))
		a.op("VST1 [V10.S4], (R7)")
	}, 24)
	return a.b.String()
}

func (e expNEON) div() string {
	var a asmText
	a.b.WriteString("// func div_neon_asm(x *float32, n int, d float32)\n")
	a.b.WriteString("TEXT ·div_neon_asm(SB), NOSPLIT, $0-20\n")
	a.op("MOVD x+0(FP), R1")
	a.op("MOVD n+8(FP), R3")
	a.op("FMOVS d+16(FP), F28")
	a.op("VDUP V28.S[0], V28.S4")
	e.loop(&a, func() {
		a.op("ADD R6, R1, R7")
		a.op("VLD1 (R7), [V0.S4]")
		e.neon(&a, fdiv4s(0, 0, 28))
		a.op("VST1 [V0.S4], (R7)")
	}, -1)
	return a.b.String()
}

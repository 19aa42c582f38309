package goasm

import (
	"fmt"

	"github.com/omex-dev/omex/tensor"
)

// NEON register plan. Accumulators are V0..V(u-1); scratch comes in sets
// of four consecutive registers (one column quad of one group: VLD1 of
// four registers needs them consecutive); x is loaded four columns at a
// time into xq[0] or xq[1] and multiplied by lane (FMUL by element).
// Quantized kernels keep 4 groups in flight, since each group's block
// scales take a register; the float types 8.
const (
	neonScale = 24 // V24..V27: quantized groups' block scales
	neonMask  = 28 // q4: 0x0f in every byte
	neonEight = 29 // q4: 8 in every 32-bit lane
)

var (
	neonTempSets = [4]int{8, 12, 16, 20}
	neonXQ       = [2]int{30, 31}
	// neonWPtr are the general registers holding each group's weight
	// pointer (post-incremented by the loads). R16-R18 and R26-R30 are
	// left alone (linker veneers, platform, closure context, REGTMP, g,
	// frame pointer, link register).
	neonWPtr = [8]string{"R10", "R11", "R12", "R13", "R14", "R15", "R19", "R20"}
)

// arm64Kernel emits one NEON kernel.
type arm64Kernel struct {
	a    asmText
	m    MatVec
	u    int // groups in flight
	set  int // next scratch set
	xcur int // next x quad register
	rows int // several-rows kernels: input rows per pass (8 moves the constants, see arm64matmul.go)
}

// maskReg, eightReg and scaleReg are the registers of q4's constants and
// of (the first group's) block scales.
func (k *arm64Kernel) maskReg() int {
	if k.rows == 8 {
		return rows8NEON.mask
	}
	return neonMask
}

func (k *arm64Kernel) eightReg() int {
	if k.rows == 8 {
		return rows8NEON.eight
	}
	return neonEight
}

func (k *arm64Kernel) scaleReg() int {
	if k.rows == 8 {
		return rows8NEON.scale
	}
	return neonScale
}

// emitARM64 returns the assembly of NEON kernel m.
func emitARM64(m MatVec) string {
	k := &arm64Kernel{m: m, u: 8}
	if m.DType.Quantized() {
		k.u = 4
	}
	k.emit()
	return k.a.b.String()
}

func (k *arm64Kernel) neon(i neonInst) { k.a.op("%s", i.line()) }

// temps returns the next scratch set's four registers.
func (k *arm64Kernel) temps() [4]int {
	b := neonTempSets[k.set%len(neonTempSets)]
	k.set++
	return [4]int{b, b + 1, b + 2, b + 3}
}

func (k *arm64Kernel) emit() {
	a, m := &k.a, k.m
	full := m.fullGroups()
	gb := m.groupBytes()
	sb := 4 * m.groupScales()
	a.b.WriteString(fmt.Sprintf("// func %s_asm(out *float32, w *byte, s *float32, x *float32, g0, g1 int)\n", m.Name()))
	a.b.WriteString(fmt.Sprintf("TEXT ·%s_asm(SB), NOSPLIT, $0-48\n", m.Name()))
	a.op("MOVD out+0(FP), R0")
	a.op("MOVD w+8(FP), R1")
	a.op("MOVD s+16(FP), R2")
	a.op("MOVD x+24(FP), R3")
	a.op("MOVD g0+32(FP), R4")
	a.op("MOVD g1+40(FP), R5")
	k.startAtGroup("R4")
	a.comment("R6 = full groups to do: min(g1, %d) - g0", full)
	a.op("MOVD R5, R6")
	a.op("CMP $%d, R6", full)
	a.op("BLE clamped")
	a.op("MOVD $%d, R6", full)
	a.label("clamped")
	a.op("SUB R4, R6, R6")
	sizes := blockSizes(k.u)
	for i, nu := range sizes {
		next := "tail"
		if i+1 < len(sizes) {
			next = fmt.Sprintf("groups%d", sizes[i+1])
		}
		a.label(fmt.Sprintf("groups%d", nu))
		a.op("CMP $%d, R6", nu)
		a.op("BLT %s", next)
		k.body(nu, fmt.Sprintf("g%d", nu), false)
		a.op("ADD $%d, R1, R1", nu*gb)
		if m.DType.Quantized() {
			a.op("ADD $%d, R2, R2", nu*sb)
		}
		a.op("SUB $%d, R6, R6", nu)
		if i == 0 {
			a.op("B groups%d", nu)
		}
	}
	a.label("tail")
	k.lastGroup("R4", "R5", func() { k.body(1, "t", true) })
	a.label("done")
	a.op("RET")
}

// startAtGroup loads q4_0's constants and advances R0 (outputs), R1
// (weights) and R2 (scales) to group g0 (in register g0), as both NEON
// kernels begin.
func (k *arm64Kernel) startAtGroup(g0 string) {
	a, m := &k.a, k.m
	if m.DType == tensor.Q4_0 {
		a.op("VMOVI $15, V%d.B16", k.maskReg())
		a.op("MOVD $8, R9")
		a.op("VDUP R9, V%d.S4", k.eightReg())
	}
	a.comment("start at group g0")
	a.op("MOVD $%d, R9", m.groupBytes())
	a.op("MUL %s, R9, R9", g0)
	a.op("ADD R9, R1, R1")
	if m.DType.Quantized() {
		a.op("MOVD $%d, R9", 4*m.groupScales())
		a.op("MUL %s, R9, R9", g0)
		a.op("ADD R9, R2, R2")
	}
	a.op("LSL $4, %s, R9", g0)
	a.op("ADD R9, R0, R0")
}

// lastGroup emits the partial last group, when the matrix has one: if
// g0 <= it < g1 (registers g0, g1), point R0, R1 and R2 at it and emit
// body (which stores only its real rows).
func (k *arm64Kernel) lastGroup(g0, g1 string, body func()) {
	a, m := &k.a, k.m
	if m.N%4 == 0 {
		return
	}
	full := m.fullGroups()
	a.comment("the last group holds %d real rows of 4; it runs when g0 <= %d < g1", m.N%4, full)
	a.op("CMP $%d, %s", full, g0)
	a.op("BGT done")
	a.op("CMP $%d, %s", full, g1)
	a.op("BLE done")
	a.op("MOVD out+0(FP), R0")
	a.op("ADD $%d, R0, R0", 16*full)
	a.op("MOVD w+8(FP), R1")
	a.op("ADD $%d, R1, R1", full*m.groupBytes())
	if m.DType.Quantized() {
		a.op("MOVD s+16(FP), R2")
		a.op("ADD $%d, R2, R2", full*4*m.groupScales())
	}
	body()
}

// body emits nu groups from R1 (weights), R2 (scales) and R3 (x) into R0
// (out, advanced past them). With partial, only the real rows of the last
// group are stored.
func (k *arm64Kernel) body(nu int, lbl string, partial bool) {
	a, m := &k.a, k.m
	for u := range nu {
		a.op("VEOR V%d.B16, V%d.B16, V%d.B16", u, u, u)
	}
	a.op("MOVD R1, %s", neonWPtr[0])
	for u := 1; u < nu; u++ {
		a.op("ADD $%d, R1, %s", u*m.groupBytes(), neonWPtr[u])
	}
	a.op("MOVD R3, R8")
	if m.DType.Quantized() {
		a.op("MOVD R2, R21")
		a.op("MOVD $%d, R7", m.K/tensor.BlockSize)
		a.label(lbl + "blocks")
		for u := range nu {
			a.op("FMOVQ %d(R21), F%d", u*4*m.groupScales(), neonScale+u)
		}
		a.op("MOVD $%d, R22", qsub)
		a.label(lbl + "sub")
		for range tensor.BlockSize / qsub / 4 {
			k.quad(nu)
		}
		a.op("SUBS $1, R22, R22")
		a.op("BNE %ssub", lbl)
		a.op("ADD $16, R21, R21")
		a.op("SUBS $1, R7, R7")
		a.op("BNE %sblocks", lbl)
	} else {
		if iters := m.K / 4; iters > 0 {
			a.op("MOVD $%d, R7", iters)
			a.label(lbl + "cols")
			k.quad(nu)
			a.op("SUBS $1, R7, R7")
			a.op("BNE %scols", lbl)
		}
		for range m.K % 4 {
			k.single(nu)
		}
	}
	if !partial {
		for u := range nu {
			a.op("VST1.P [V%d.S4], 16(R0)", u)
		}
		return
	}
	a.op("FMOVS F0, (R0)")
	for j := 1; j < m.N%4; j++ {
		a.op("VMOV V0.S[%d], R9", j)
		a.op("MOVW R9, %d(R0)", 4*j)
	}
}

// quad emits four columns for nu groups: x[c..c+3] in one register, each
// group's four column vectors decoded into a scratch set, then per column
// (in order) multiply (by the scale, then by x's lane) and add.
func (k *arm64Kernel) quad(nu int) {
	a, m := &k.a, k.m
	x := neonXQ[k.xcur%2]
	k.xcur++
	a.op("VLD1.P 16(R8), [V%d.S4]", x)
	for u := range nu {
		cols := k.decodeQuad(neonWPtr[u], k.temps())
		if m.DType.Quantized() {
			for _, c := range cols {
				k.neon(scvtf4s(c, c))
			}
		}
		for j, c := range cols {
			if m.DType.Quantized() {
				k.neon(fmul4s(c, c, neonScale+u))
			}
			k.neon(fmulElem4s(c, c, x, j))
			k.neon(fadd4s(u, u, c))
		}
	}
}

// single emits one column for nu groups (the K%4 columns after the quads;
// unquantized types only, quantized K is a multiple of 32).
func (k *arm64Kernel) single(nu int) {
	a, m := &k.a, k.m
	x := neonXQ[k.xcur%2]
	k.xcur++
	a.op("FMOVS.P 4(R8), F%d", x)
	for u := range nu {
		p := neonWPtr[u]
		t := k.temps()[0]
		switch m.DType {
		case tensor.F32:
			a.op("VLD1.P 16(%s), [V%d.S4]", p, t)
		case tensor.F16:
			a.op("FMOVD.P 8(%s), F%d", p, t)
			k.neon(fcvtl4s(t, t))
		case tensor.BF16:
			a.op("FMOVD.P 8(%s), F%d", p, t)
			k.neon(shll16(t, t))
		}
		k.neon(fmulElem4s(t, t, x, 0))
		k.neon(fadd4s(u, u, t))
	}
}

// decodeQuad loads the next four columns of one group's weights from
// pointer p (post-incremented) and decodes them into scratch set t: the
// registers returned hold columns c..c+3 as float32 (quantized: the codes,
// converted and scaled by the caller).
func (k *arm64Kernel) decodeQuad(p string, t [4]int) [4]int {
	a, m := &k.a, k.m
	var cols [4]int
	switch m.DType {
	case tensor.F32:
		a.op("VLD1.P 64(%s), [V%d.S4, V%d.S4, V%d.S4, V%d.S4]", p, t[0], t[1], t[2], t[3])
		cols = t
	case tensor.F16, tensor.BF16:
		lo, hi := fcvtl4s, fcvtl2_4s
		if m.DType == tensor.BF16 {
			lo, hi = shll16, shll2_16
		}
		a.op("VLD1.P 32(%s), [V%d.H8, V%d.H8]", p, t[0], t[1])
		k.neon(lo(t[2], t[0]))
		k.neon(hi(t[3], t[0]))
		k.neon(lo(t[0], t[1]))
		k.neon(hi(t[1], t[1]))
		cols = [4]int{t[2], t[3], t[0], t[1]}
	case tensor.Q8_0:
		a.op("VLD1.P 16(%s), [V%d.B16]", p, t[0])
		k.neon(sxtl8h(t[1], t[0]))
		k.neon(sxtl2_8h(t[0], t[0]))
		k.neon(sxtl4s(t[2], t[1]))
		k.neon(sxtl2_4s(t[1], t[1]))
		k.neon(sxtl4s(t[3], t[0]))
		k.neon(sxtl2_4s(t[0], t[0]))
		cols = [4]int{t[2], t[1], t[3], t[0]}
	case tensor.Q4_0:
		// 8 bytes: columns (c, c+1) of the 4 lanes, then (c+2, c+3).
		a.op("FMOVD.P 8(%s), F%d", p, t[0])
		k.neon(uxtl8h(t[0], t[0]))
		k.neon(uxtl4s(t[1], t[0]))
		k.neon(uxtl2_4s(t[0], t[0]))
		k.neon(and16b(t[2], t[1], k.maskReg()))
		k.neon(ushr4s4(t[1], t[1]))
		k.neon(and16b(t[3], t[0], k.maskReg()))
		k.neon(ushr4s4(t[0], t[0]))
		cols = [4]int{t[2], t[1], t[3], t[0]}
		for _, c := range cols {
			k.neon(sub4s(c, c, k.eightReg()))
		}
	}
	return cols
}

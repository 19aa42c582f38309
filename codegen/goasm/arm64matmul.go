package goasm

import (
	"fmt"

	"github.com/omex-dev/omex/tensor"
)

// The several-rows NEON kernel keeps one row group in flight and
// MatMulRows input rows: accumulators V0..V3 (one per row), the four x
// columns of each row in neonRowX, the group's block scales in
// V(neonScale). Per four columns the weights are decoded once (the
// matvec kernel's decodeQuad) and, for each column in order and each row,
// multiplied by the row's x lane into a product register and added to the
// row's accumulator: every row's sum is its matvec's, bit for bit.
//
// General registers: R0, R1, R2 point at the current group's row-0
// outputs, weights and scales, R3 at row 0 of x, R4 holds the row stride
// in bytes, R19 counts the groups left; in a group R10 walks the weights,
// R21 the scales, R8 and R23..R25 the columns of x rows 0..3.
var (
	neonRowX  = []int{25, 26, 27, 30}
	neonXPtr  = []string{"R8", "R23", "R24", "R25"}
	neonProds = []int{16, 17, 18, 19, 20, 21, 22, 23}
	neonDec   = [2][4]int{{8, 9, 10, 11}, {12, 13, 14, 15}}
)

// rows8NEON is the register plan of the 8-row NEON form (NAME_rows8_asm):
// accumulators V0..V7, the block scales in V8, q4's constants in V9 and
// V10, decoded columns in V12..V19, products in V20..V23, the rows' x in
// V24..V31; x rows 4..7 walk R12..R15. Eight independent sums per group
// keep more of a wide core's floating-point pipes busy than four (as on
// AVX2, where the same change gave 1.4-1.8x); not measured on arm64
// hardware here.
var rows8NEON = struct {
	scale, mask, eight int
	x                  []int
	ptr                []string
	prods              []int
	dec                [2][4]int
}{8, 9, 10, []int{24, 25, 26, 27, 28, 29, 30, 31}, []string{"R8", "R23", "R24", "R25", "R12", "R13", "R14", "R15"},
	[]int{20, 21, 22, 23}, [2][4]int{{12, 13, 14, 15}, {16, 17, 18, 19}}}

// rowRegs are the kernel's x registers, x row pointers, product
// registers and decode sets.
func (k *arm64Kernel) rowRegs() ([]int, []string, []int, [2][4]int) {
	if k.rows == 8 {
		return rows8NEON.x, rows8NEON.ptr, rows8NEON.prods, rows8NEON.dec
	}
	return neonRowX, neonXPtr, neonProds, neonDec
}

// emitMatMulARM64 returns the assembly of m's several-rows kernel over
// rows (4 or 8) input rows, NAME_rows_asm or NAME_rows8_asm(out, w, s, x
// *, stride, g0, g1 int).
func emitMatMulARM64(m MatVec, rows int) string {
	k := &arm64Kernel{m: m, u: 1, rows: rows}
	a := &k.a
	gb, sb := m.groupBytes(), 4*m.groupScales()
	name := m.RowsName()
	if rows == 8 {
		name += "8"
	}
	fmt.Fprintf(&a.b, "// func %s_asm(out *float32, w *byte, s *float32, x *float32, stride, g0, g1 int)\n", name)
	fmt.Fprintf(&a.b, "TEXT ·%s_asm(SB), NOSPLIT, $0-56\n", name)
	a.op("MOVD out+0(FP), R0")
	a.op("MOVD w+8(FP), R1")
	a.op("MOVD s+16(FP), R2")
	a.op("MOVD x+24(FP), R3")
	a.op("MOVD stride+32(FP), R4")
	a.op("LSL $2, R4, R4")
	a.op("MOVD g0+40(FP), R5")
	a.op("MOVD g1+48(FP), R6")
	k.startAtGroup("R5")
	full := m.fullGroups()
	a.comment("R19 = full groups to do: min(g1, %d) - g0", full)
	a.op("MOVD R6, R19")
	a.op("CMP $%d, R19", full)
	a.op("BLE clamped")
	a.op("MOVD $%d, R19", full)
	a.label("clamped")
	a.op("SUB R5, R19, R19")
	a.label("groups")
	a.op("CMP $1, R19")
	a.op("BLT tail")
	k.rowsBody("g", false)
	a.op("ADD $%d, R1, R1", gb)
	if m.DType.Quantized() {
		a.op("ADD $%d, R2, R2", sb)
	}
	a.op("ADD $16, R0, R0")
	a.op("SUB $1, R19, R19")
	a.op("B groups")
	a.label("tail")
	k.lastGroup("R5", "R6", func() { k.rowsBody("t", true) })
	a.label("done")
	a.op("RET")
	return a.b.String()
}

// rowsBody emits one group for the kernel's rows; with partial only the
// group's real rows are stored.
func (k *arm64Kernel) rowsBody(lbl string, partial bool) {
	a, m := &k.a, k.m
	_, ptr, _, _ := k.rowRegs()
	for r := range k.rows {
		a.op("VEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	a.op("MOVD R1, R10")
	a.op("MOVD R3, R8")
	for r := 1; r < k.rows; r++ {
		a.op("ADD R4, %s, %s", ptr[r-1], ptr[r])
	}
	if m.DType.Quantized() {
		a.op("MOVD R2, R21")
		a.op("MOVD $%d, R7", m.K/tensor.BlockSize)
		a.label(lbl + "blocks")
		a.op("FMOVQ (R21), F%d", k.scaleReg())
		a.op("MOVD $%d, R22", qsub)
		a.label(lbl + "sub")
		for range tensor.BlockSize / qsub / 4 {
			k.rowsQuad()
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
			k.rowsQuad()
			a.op("SUBS $1, R7, R7")
			a.op("BNE %scols", lbl)
		}
		for range m.K % 4 {
			k.rowsSingle()
		}
	}
	a.op("MOVD R0, R9")
	for r := range k.rows {
		if r > 0 {
			a.op("ADD R4, R9, R9")
		}
		if !partial {
			a.op("FMOVQ F%d, (R9)", r)
			continue
		}
		a.op("FMOVS F%d, (R9)", r)
		for j := 1; j < m.N%4; j++ {
			a.op("VMOV V%d.S[%d], R11", r, j)
			a.op("MOVW R11, %d(R9)", 4*j)
		}
	}
}

// rowsProducts adds column j (register c) times lane j of each row's x
// register to the row's accumulator, through rotating product registers.
func (k *arm64Kernel) rowsProducts(c, j int) {
	x, _, prods, _ := k.rowRegs()
	for r := range k.rows {
		p := prods[k.set%len(prods)]
		k.set++
		k.neon(fmulElem4s(p, c, x[r], j))
		k.neon(fadd4s(r, r, p))
	}
}

// rowsQuad emits four columns: each row's four x values, the group's four
// decoded (and, quantized, scaled) weight columns, then per column in
// order the products of every row.
func (k *arm64Kernel) rowsQuad() {
	a, m := &k.a, k.m
	x, ptr, _, dec := k.rowRegs()
	for r := range k.rows {
		a.op("VLD1.P 16(%s), [V%d.S4]", ptr[r], x[r])
	}
	t := dec[k.xcur%2]
	k.xcur++
	cols := k.decodeQuad("R10", t)
	for j, c := range cols {
		if m.DType.Quantized() {
			k.neon(scvtf4s(c, c))
			k.neon(fmul4s(c, c, k.scaleReg()))
		}
		k.rowsProducts(c, j)
	}
}

// rowsSingle emits one column (the K%4 after the quads; unquantized types
// only).
func (k *arm64Kernel) rowsSingle() {
	a, m := &k.a, k.m
	x, ptr, _, dec := k.rowRegs()
	for r := range k.rows {
		a.op("FMOVS.P 4(%s), F%d", ptr[r], x[r])
	}
	t := dec[0][0]
	switch m.DType {
	case tensor.F32:
		a.op("VLD1.P 16(R10), [V%d.S4]", t)
	case tensor.F16:
		a.op("FMOVD.P 8(R10), F%d", t)
		k.neon(fcvtl4s(t, t))
	case tensor.BF16:
		a.op("FMOVD.P 8(R10), F%d", t)
		k.neon(shll16(t, t))
	}
	k.rowsProducts(t, 0)
}

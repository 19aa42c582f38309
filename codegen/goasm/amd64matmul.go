package goasm

import (
	"fmt"

	"github.com/omex-dev/omex/tensor"
)

// The several-rows amd64 kernel keeps one row group in flight and
// MatMulRows rows: accumulators are vector registers 0..3 (one per row),
// the group's dequantized weights at column c sit in register 4 (and 5:
// q4_0's second column), its block scales in register 6 (AVX-512 and SSE;
// AVX2 reads them from memory). Per column the weight vector is decoded
// once and then, for each row, multiplied by that row's broadcast x[c] and
// added to the row's accumulator, weight first as in the matvec kernel, so
// every row's sum is its matvec's, bit for bit.
//
// General registers: SI, R8 and DI point at the current group's weights,
// scales and row-0 outputs, DX at row 0 of x, R14 holds the row stride in
// bytes; in a group, R12 and R13 walk the weights and scales, R11 and AX
// the columns of x rows 0 and 3 (rows 1 and 2 are R11 plus one or two
// strides).
//
// AVX-512 and AVX2 also have an 8-row form (NAME_rows8_asm):
// accumulators 0..7, weights in 8 (and 9), scratch from 10 (AVX2, whose
// q4_0 constants go to 14 and 15) or 11 (AVX-512, scales in 10); eight
// independent sums also keep AVX2's two adders busy, which four do not; x rows 4..7 are R11 plus 4 strides, AX plus 2, BX (R11 plus 6,
// walked like R11 and AX) and AX plus 4. g0 and g1 are reloaded from the
// frame for the tail, so BX is free inside the groups.
const (
	mmW     = 4 // and 5: q4_0's second column
	mmScale = 6
)

// rows8 is the register plan of the 8-row AVX-512 form: where the
// weights (and q4_0's second column, w+1) and the scales go.
var rows8 = struct{ w, scale int }{8, 10}

// planMatMul is the register plan of m's several-rows kernel over rows
// input rows (4, or 8 on AVX-512).
func planMatMul(m MatVec, rows int) amd64Plan {
	if rows == 8 && m.ISA == AVX512 {
		p := amd64Plan{u: 1, temps: seq(11, 13)}
		if m.DType.Quantized() {
			p.scales = []int{rows8.scale}
		}
		if m.DType == tensor.Q4_0 {
			p.consts = map[string]int{"q4table": 28}
		}
		return p
	}
	if rows == 8 {
		// AVX2: 16 registers. Scales stay memory operands.
		p := amd64Plan{u: 1, temps: seq(10, 4)}
		if m.DType == tensor.Q4_0 {
			p.consts = map[string]int{"mask": 14, "eight": 15}
		}
		return p
	}
	p := amd64Plan{u: 1, temps: seq(7, 5)}
	if m.ISA != AVX2 && m.DType.Quantized() {
		p.scales = []int{mmScale}
	}
	if m.ISA == SSE {
		p.temps = []int{7, 8, 14, 15}
		if m.DType == tensor.F16 {
			p.consts = map[string]int{"sign": 9, "mag": 10, "thr": 11, "inf": 12, "magic": 13}
		}
	}
	if m.DType == tensor.Q4_0 {
		p.consts = map[string]int{"mask": 12, "eight": 13}
		if m.ISA == AVX512 {
			p.consts = map[string]int{"q4table": 12}
		}
	}
	return p
}

// emitMatMulAMD64 returns the assembly of m's several-rows kernel over
// rows input rows, NAME_rows_asm(out, w, s, x *, stride, g0, g1 int)
// (4 rows) or NAME_rows8_asm (8, AVX-512).
func emitMatMulAMD64(m MatVec, rows int) string {
	k := &amd64Kernel{m: m, L: m.Lanes(), p: planMatMul(m, rows), rows: rows}
	a := &k.a
	name := m.RowsName()
	if rows == 8 {
		name += "8"
	}
	fmt.Fprintf(&a.b, "// func %s_asm(out *float32, w *byte, s *float32, x *float32, stride, g0, g1 int)\n", name)
	fmt.Fprintf(&a.b, "TEXT ·%s_asm(SB), NOSPLIT, $64-56\n", name)
	a.op("MOVQ out+0(FP), DI")
	a.op("MOVQ w+8(FP), SI")
	a.op("MOVQ s+16(FP), R8")
	a.op("MOVQ x+24(FP), DX")
	a.op("MOVQ stride+32(FP), R14")
	a.op("SHLQ $2, R14")
	a.op("MOVQ g0+40(FP), BX")
	a.op("MOVQ g1+48(FP), CX")
	k.constants()
	a.comment("start at group g0")
	a.op("MOVQ BX, AX")
	a.op("IMULQ $%d, AX", m.groupBytes())
	a.op("ADDQ AX, SI")
	if m.DType.Quantized() {
		a.op("MOVQ BX, AX")
		a.op("IMULQ $%d, AX", 4*m.groupScales())
		a.op("ADDQ AX, R8")
	}
	a.op("MOVQ BX, AX")
	a.op("IMULQ $%d, AX", k.vbytes())
	a.op("ADDQ AX, DI")
	full := m.fullGroups()
	a.comment("R9 = full groups to do: min(g1, %d) - g0", full)
	a.op("MOVQ CX, R9")
	a.op("CMPQ R9, $%d", full)
	a.op("JLE clamped")
	a.op("MOVQ $%d, R9", full)
	a.label("clamped")
	a.op("SUBQ BX, R9")
	a.op("JLE tail")
	a.label("groups")
	k.mmBody("g", false)
	a.op("ADDQ $%d, SI", m.groupBytes())
	if m.DType.Quantized() {
		a.op("ADDQ $%d, R8", 4*m.groupScales())
	}
	a.op("ADDQ $%d, DI", k.vbytes())
	a.op("DECQ R9")
	a.op("JNZ groups")
	a.label("tail")
	a.op("MOVQ g0+40(FP), BX")
	a.op("MOVQ g1+48(FP), CX")
	if k.hasTail() {
		a.comment("the last group holds %d real rows of %d; it runs when g0 <= %d < g1", m.N%k.L, k.L, full)
		a.op("CMPQ BX, $%d", full)
		a.op("JGT done")
		a.op("CMPQ CX, $%d", full)
		a.op("JLE done")
		a.op("MOVQ out+0(FP), DI")
		a.op("ADDQ $%d, DI", full*k.vbytes())
		a.op("MOVQ w+8(FP), SI")
		a.op("MOVQ $%d, AX", full*m.groupBytes())
		a.op("ADDQ AX, SI")
		if m.DType.Quantized() {
			a.op("MOVQ s+16(FP), R8")
			a.op("MOVQ $%d, AX", full*4*m.groupScales())
			a.op("ADDQ AX, R8")
		}
		k.mmBody("t", true)
	}
	a.label("done")
	if k.avx() {
		a.op("VZEROUPPER")
	}
	a.op("RET")
	return a.b.String()
}

// mmBody emits one group for the kernel's rows; with partial only the
// group's real rows are stored.
func (k *amd64Kernel) mmBody(lbl string, partial bool) {
	a, m := &k.a, k.m
	for r := range k.rows {
		switch m.ISA {
		case AVX512:
			a.op("VPXORD Z%d, Z%d, Z%d", r, r, r)
		case AVX2:
			a.op("VXORPS Y%d, Y%d, Y%d", r, r, r)
		default:
			a.op("XORPS X%d, X%d", r, r)
		}
	}
	a.op("MOVQ SI, R12")
	a.op("MOVQ DX, R11")
	a.op("LEAQ (R11)(R14*2), AX")
	a.op("ADDQ R14, AX")
	if k.rows == 8 {
		a.op("LEAQ (R11)(R14*4), BX")
		a.op("LEAQ (BX)(R14*2), BX")
	}
	advanceX := func(bytes int) {
		a.op("ADDQ $%d, R11", bytes)
		a.op("ADDQ $%d, AX", bytes)
		if k.rows == 8 {
			a.op("ADDQ $%d, BX", bytes)
		}
	}
	if m.DType.Quantized() {
		a.op("MOVQ R8, R13")
		a.op("MOVQ $%d, R10", m.K/tensor.BlockSize)
		a.label(lbl + "blocks")
		k.loadScales(1)
		a.op("MOVQ $%d, R15", qsub)
		a.label(lbl + "sub")
		cols := tensor.BlockSize / qsub
		if m.DType == tensor.Q8_0 {
			for c := range cols {
				k.mmColumn(c)
			}
			a.op("ADDQ $%d, R12", cols*k.L)
		} else {
			for c := 0; c < cols; c += 2 {
				k.mmColumnPair(c)
			}
			a.op("ADDQ $%d, R12", cols/2*k.L)
		}
		advanceX(4 * cols)
		a.op("DECQ R15")
		a.op("JNZ %ssub", lbl)
		a.op("ADDQ $%d, R13", k.vbytes())
		a.op("DECQ R10")
		a.op("JNZ %sblocks", lbl)
	} else {
		if iters := m.K / kstep; iters > 0 {
			a.op("MOVQ $%d, R10", iters)
			a.label(lbl + "cols")
			for c := range kstep {
				k.mmColumn(c)
			}
			a.op("ADDQ $%d, R12", kstep*k.L*m.elemBits()/8)
			advanceX(4 * kstep)
			a.op("DECQ R10")
			a.op("JNZ %scols", lbl)
		}
		for c := range m.K % kstep {
			k.mmColumn(c)
		}
	}
	a.op("LEAQ (DI)(R14*2), AX")
	a.op("ADDQ R14, AX")
	if k.rows == 8 {
		a.op("LEAQ (DI)(R14*4), BX")
		a.op("LEAQ (BX)(R14*2), BX")
	}
	for r := range k.rows {
		dst := mmRowAddr("DI", "AX", "BX", r, 0)
		if !partial {
			k.store(r, dst)
			continue
		}
		k.store(r, "(SP)")
		a.op("LEAQ %s, R12", dst)
		for j := range m.N % k.L {
			a.op("MOVL %d(SP), R13", 4*j)
			a.op("MOVL R13, %d(R12)", 4*j)
		}
	}
}

// mmRowAddr is the address of row r's element at byte offset off: rows
// 0..2 and 4 from base (plus 1, 2 or 4 strides in R14), rows 3, 5 and 7
// from base3 (row 3: plus 0, 2, 4 strides), row 6 from base6.
func mmRowAddr(base, base3, base6 string, r, off int) string {
	switch r {
	case 0:
		return fmt.Sprintf("%d(%s)", off, base)
	case 1:
		return fmt.Sprintf("%d(%s)(R14*1)", off, base)
	case 2:
		return fmt.Sprintf("%d(%s)(R14*2)", off, base)
	case 3:
		return fmt.Sprintf("%d(%s)", off, base3)
	case 4:
		return fmt.Sprintf("%d(%s)(R14*4)", off, base)
	case 5:
		return fmt.Sprintf("%d(%s)(R14*2)", off, base3)
	case 6:
		return fmt.Sprintf("%d(%s)", off, base6)
	}
	return fmt.Sprintf("%d(%s)(R14*4)", off, base3)
}

// mmDecode writes the group's weights at column c, as float32 times the
// block scale for q8_0, into register w (f32, f16, bf16, q8_0): the
// matvec kernel's operations.
func (k *amd64Kernel) mmDecode(c int, w string) {
	a := &k.a
	mem := k.weightAddr(0, c)
	if k.avx() {
		switch k.m.DType {
		case tensor.F32:
			a.op("VMOVUPS %s, %s", mem, w)
		case tensor.F16:
			a.op("VCVTPH2PS %s, %s", mem, w)
		case tensor.BF16:
			a.op("VPMOVZXWD %s, %s", mem, w)
			a.op("VPSLLD $16, %s, %s", w, w)
		case tensor.Q8_0:
			a.op("VPMOVSXBD %s, %s", mem, w)
			a.op("VCVTDQ2PS %s, %s", w, w)
			a.op("VMULPS %s, %s, %s", k.scale(0), w, w)
		}
		return
	}
	switch k.m.DType {
	case tensor.F32:
		a.op("MOVUPS %s, %s", mem, w)
	case tensor.BF16:
		a.op("MOVQ %s, %s", mem, w)
		a.op("PUNPCKLWL %s, %s", w, w)
		a.op("PSLLL $16, %s", w)
	case tensor.F16:
		k.sseHalf(mem, w)
	case tensor.Q8_0:
		a.op("MOVSS %s, %s", mem, w)
		a.op("PUNPCKLBW %s, %s", w, w)
		a.op("PUNPCKLWL %s, %s", w, w)
		a.op("PSRAL $24, %s", w)
		a.op("CVTPL2PS %s, %s", w, w)
		a.op("MULPS %s, %s", k.scale(0), w)
	}
}

// mmRows emits acc[r] += w * x[r][c] for every row (c relative to the x
// column pointers), the weight the multiply's first operand.
func (k *amd64Kernel) mmRows(c int, w string) {
	a := &k.a
	for r := range k.rows {
		acc := k.v(r)
		xm := mmRowAddr("R11", "AX", "BX", r, 4*c)
		if k.m.ISA == AVX512 {
			// The broadcast of x[c] rides in the multiply (embedded
			// broadcast): no separate load-and-broadcast instruction.
			t := k.temp()
			a.op("VMULPS.BCST %s, %s, %s", xm, w, t)
			a.op("VADDPS %s, %s, %s", t, acc, acc)
			continue
		}
		if k.avx() {
			t := k.temp()
			a.op("VBROADCASTSS %s, %s", xm, t)
			a.op("VMULPS %s, %s, %s", t, w, t)
			a.op("VADDPS %s, %s, %s", t, acc, acc)
			continue
		}
		xr, t := k.temp(), k.temp()
		a.op("MOVSS %s, %s", xm, xr)
		a.op("SHUFPS $0, %s, %s", xr, xr)
		a.op("MOVAPS %s, %s", w, t)
		a.op("MULPS %s, %s", xr, t)
		a.op("ADDPS %s, %s", t, acc)
	}
}

// mmColumn emits column c for every row (f32, f16, bf16, q8_0).
func (k *amd64Kernel) mmColumn(c int) {
	w := k.v(k.wReg())
	k.mmDecode(c, w)
	k.mmRows(c, w)
}

// mmColumnPair emits q4_0 columns c and c+1 (one byte load holds both)
// for every row: the matvec kernel's decoding, then column c's products
// for all rows, then column c+1's, so each row adds in column order.
func (k *amd64Kernel) mmColumnPair(c int) {
	a := &k.a
	mem := fmt.Sprintf("%d(R12)", c/2*k.L)
	lo, hi := k.v(k.wReg()), k.v(k.wReg()+1)
	if k.m.ISA == AVX512 {
		// The matvec's table decoding (columnPair).
		table := k.v(k.p.consts["q4table"])
		a.op("VPMOVZXBD %s, %s", mem, hi)
		a.op("VPERMPS %s, %s, %s", table, hi, lo)
		a.op("VPSRLD $4, %s, %s", hi, hi)
		a.op("VPERMPS %s, %s, %s", table, hi, hi)
		a.op("VMULPS %s, %s, %s", k.scale(0), lo, lo)
		a.op("VMULPS %s, %s, %s", k.scale(0), hi, hi)
		k.mmRows(c, lo)
		k.mmRows(c+1, hi)
		return
	}
	mask, eight := k.v(k.p.consts["mask"]), k.v(k.p.consts["eight"])
	if k.avx() {
		and := "VPAND"
		if k.m.ISA == AVX512 {
			and = "VPANDD"
		}
		a.op("VPMOVZXBD %s, %s", mem, hi)
		a.op("%s %s, %s, %s", and, mask, hi, lo)
		a.op("VPSRLD $4, %s, %s", hi, hi)
		a.op("VPSUBD %s, %s, %s", eight, lo, lo)
		a.op("VPSUBD %s, %s, %s", eight, hi, hi)
		a.op("VCVTDQ2PS %s, %s", lo, lo)
		a.op("VCVTDQ2PS %s, %s", hi, hi)
		a.op("VMULPS %s, %s, %s", k.scale(0), lo, lo)
		a.op("VMULPS %s, %s, %s", k.scale(0), hi, hi)
	} else {
		a.op("MOVSS %s, %s", mem, hi)
		a.op("PUNPCKLBW %s, %s", hi, hi)
		a.op("PUNPCKLWL %s, %s", hi, hi)
		a.op("PSRLL $24, %s", hi)
		a.op("MOVO %s, %s", hi, lo)
		a.op("PAND %s, %s", mask, lo)
		a.op("PSRLL $4, %s", hi)
		a.op("PSUBL %s, %s", eight, lo)
		a.op("PSUBL %s, %s", eight, hi)
		a.op("CVTPL2PS %s, %s", lo, lo)
		a.op("CVTPL2PS %s, %s", hi, hi)
		a.op("MULPS %s, %s", k.scale(0), lo)
		a.op("MULPS %s, %s", k.scale(0), hi)
	}
	k.mmRows(c, lo)
	k.mmRows(c+1, hi)
}

// wReg is the register of the decoded weights (wReg+1: q4_0's second
// column).
func (k *amd64Kernel) wReg() int {
	if k.rows == 8 {
		return rows8.w
	}
	return mmW
}

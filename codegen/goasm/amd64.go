package goasm

import (
	"fmt"
	"math"
	"strings"

	"github.com/omex-dev/omex/tensor"
)

// amd64Plan is a kernel's register plan: how many groups it keeps in
// flight and which vector registers hold what.
type amd64Plan struct {
	u      int            // groups in flight (accumulators are registers 0..u-1)
	temps  []int          // rotating scratch registers
	xb     [2]int         // broadcast x[k] (two, alternating, for overlap)
	scales []int          // a group's block scales, one register per group; nil: memory operands
	consts map[string]int // constant vectors
}

// planAMD64 assigns registers for m. AVX-512 has 32 vector registers, AVX2
// and SSE 16; SSE keeps fewer groups in flight for the types whose
// decoding needs constants and whose scales must sit in registers (SSE
// multiplies only accept aligned memory operands, and interleaved scales
// are not 16-byte aligned in general).
func planAMD64(m MatVec) amd64Plan {
	q4 := m.DType == tensor.Q4_0
	switch m.ISA {
	case AVX512:
		p := amd64Plan{u: 8, temps: seq(8, 12), xb: [2]int{30, 31}}
		if m.DType.Quantized() {
			p.scales = seq(20, 8)
		}
		if q4 {
			p.consts = map[string]int{"q4table": 28}
		}
		return p
	case AVX2:
		p := amd64Plan{u: 8, temps: seq(8, 6), xb: [2]int{14, 15}}
		if q4 {
			p.temps = seq(8, 4)
			p.consts = map[string]int{"mask": 12, "eight": 13}
		}
		return p
	}
	// SSE2.
	switch m.DType {
	case tensor.Q8_0:
		return amd64Plan{u: 4, scales: seq(4, 4), temps: seq(8, 6), xb: [2]int{14, 15}}
	case tensor.Q4_0:
		return amd64Plan{u: 4, scales: seq(4, 4), temps: seq(8, 4), xb: [2]int{14, 15},
			consts: map[string]int{"mask": 12, "eight": 13}}
	case tensor.F16:
		return amd64Plan{u: 4, temps: seq(4, 3), xb: [2]int{14, 15},
			consts: map[string]int{"sign": 7, "mag": 8, "thr": 9, "inf": 10, "magic": 11}}
	}
	return amd64Plan{u: 8, temps: seq(8, 6), xb: [2]int{14, 15}}
}

// seq is n consecutive register numbers from first.
func seq(first, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = first + i
	}
	return s
}

// q4TableSym is the file-local table of float32(code - 8) for the 16 q4
// codes, which AVX-512 q4_0 kernels index with VPERMPS (q4Table emits it).
const q4TableSym = "q4tab<>"

// q4Table is the DATA of q4TableSym.
func q4Table() string {
	var b strings.Builder
	for i := range 16 {
		fmt.Fprintf(&b, "DATA %s+%d(SB)/4, $0x%08x\n", q4TableSym, 4*i, math.Float32bits(float32(i-8)))
	}
	fmt.Fprintf(&b, "GLOBL %s(SB), RODATA|NOPTR, $64\n", q4TableSym)
	return b.String()
}

// needsQ4Table reports whether any of ks is an AVX-512 q4_0 kernel.
func needsQ4Table(ks []MatVec) bool {
	for _, m := range ks {
		if m.ISA == AVX512 && m.DType == tensor.Q4_0 {
			return true
		}
	}
	return false
}

// amd64Consts are the 32-bit patterns of the constant vectors.
var amd64Consts = map[string]uint32{
	"mask":  0x0f,       // a q4 code from its byte
	"eight": 8,          // q4's zero point
	"sign":  0x80000000, // f16 (SSE): the sign, once the half is in the high word
	"mag":   0x7fff,     // f16 (SSE): exponent and fraction
	"thr":   0x0f7fffff, // f16 (SSE): magnitudes above are infinities and NaNs
	"inf":   0x7f800000, // f16 (SSE): the float32 exponent of those
	"magic": 0x77800000, // f16 (SSE): 2^112, rebias the exponent by 127-15
}

// amd64Kernel emits one kernel for AVX-512, AVX2 or SSE2.
type amd64Kernel struct {
	a    asmText
	m    MatVec
	L    int
	p    amd64Plan
	tmp  int // next scratch register (index into p.temps)
	xcur int // which of p.xb holds the current x[k]
	rows int // several-rows kernels: input rows per pass
}

// kstep is how many columns one loop iteration covers for the unquantized
// types (the quantized ones step one block of 32).
const kstep = 4

// qsub is how many loop iterations one quantization block takes.
const qsub = 4

// emitAMD64 returns the assembly of kernel m (an amd64 ISA).
func emitAMD64(m MatVec) string {
	k := &amd64Kernel{m: m, L: m.Lanes(), p: planAMD64(m)}
	k.emit()
	return k.a.b.String()
}

func (k *amd64Kernel) avx() bool { return k.m.ISA != SSE }

// v names vector register i at the ISA's width.
func (k *amd64Kernel) v(i int) string {
	switch k.m.ISA {
	case AVX512:
		return fmt.Sprintf("Z%d", i)
	case AVX2:
		return fmt.Sprintf("Y%d", i)
	}
	return fmt.Sprintf("X%d", i)
}

// temp returns the next scratch register.
func (k *amd64Kernel) temp() string {
	r := k.v(k.p.temps[k.tmp%len(k.p.temps)])
	k.tmp++
	return r
}

// vbytes is the size of one vector of float32.
func (k *amd64Kernel) vbytes() int { return 4 * k.L }

// hasTail reports whether the last group has padding rows, whose outputs
// must not be stored.
func (k *amd64Kernel) hasTail() bool { return k.m.N%k.L != 0 }

func (k *amd64Kernel) emit() {
	a, m := &k.a, k.m
	frame := 0
	if k.hasTail() {
		frame = 64 // the last group's vector, copied out lane by lane
	}
	a.b.WriteString(fmt.Sprintf("// func %s_asm(out *float32, w *byte, s *float32, x *float32, g0, g1 int)\n", m.Name()))
	a.b.WriteString(fmt.Sprintf("TEXT ·%s_asm(SB), NOSPLIT, $%d-48\n", m.Name(), frame))
	a.op("MOVQ out+0(FP), DI")
	a.op("MOVQ w+8(FP), SI")
	a.op("MOVQ s+16(FP), R8")
	a.op("MOVQ x+24(FP), DX")
	a.op("MOVQ g0+32(FP), BX")
	a.op("MOVQ g1+40(FP), CX")
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
	sizes := blockSizes(k.p.u)
	for i, nu := range sizes {
		next := "tail"
		if i+1 < len(sizes) {
			next = fmt.Sprintf("groups%d", sizes[i+1])
		}
		a.label(fmt.Sprintf("groups%d", nu))
		a.op("CMPQ R9, $%d", nu)
		a.op("JLT %s", next)
		k.body(nu, fmt.Sprintf("g%d", nu), false)
		a.op("ADDQ $%d, SI", nu*m.groupBytes())
		if m.DType.Quantized() {
			a.op("ADDQ $%d, R8", nu*4*m.groupScales())
		}
		a.op("ADDQ $%d, DI", nu*k.vbytes())
		a.op("SUBQ $%d, R9", nu)
		if i == 0 {
			a.op("JMP groups%d", nu)
		}
	}
	a.label("tail")
	if k.hasTail() {
		a.comment("the last group holds %d real rows of %d; it runs when g0 <= %d < g1", m.N%k.L, k.L, full)
		a.op("CMPQ BX, $%d", full)
		a.op("JGT done")
		a.op("CMPQ CX, $%d", full)
		a.op("JLE done")
		a.op("MOVQ out+0(FP), DI")
		a.op("MOVQ $%d, AX", full*k.vbytes())
		a.op("ADDQ AX, DI")
		a.op("MOVQ w+8(FP), SI")
		a.op("MOVQ $%d, AX", full*m.groupBytes())
		a.op("ADDQ AX, SI")
		if m.DType.Quantized() {
			a.op("MOVQ s+16(FP), R8")
			a.op("MOVQ $%d, AX", full*4*m.groupScales())
			a.op("ADDQ AX, R8")
		}
		k.body(1, "t", true)
	}
	a.label("done")
	if k.avx() {
		a.op("VZEROUPPER")
	}
	a.op("RET")
}

// constants loads the plan's constant vectors.
func (k *amd64Kernel) constants() {
	if r, ok := k.p.consts["q4table"]; ok {
		k.a.op("VMOVUPS %s(SB), Z%d", q4TableSym, r)
	}
	names := []string{"mask", "eight", "sign", "mag", "thr", "inf", "magic"}
	for _, name := range names {
		r, ok := k.p.consts[name]
		if !ok {
			continue
		}
		k.a.op("MOVL $0x%08x, AX", amd64Consts[name])
		switch k.m.ISA {
		case AVX512:
			k.a.op("VPBROADCASTD AX, Z%d", r)
		case AVX2:
			k.a.op("MOVQ AX, X%d", r)
			k.a.op("VPBROADCASTD X%d, Y%d", r, r)
		default:
			k.a.op("MOVQ AX, X%d", r)
			k.a.op("PSHUFL $0, X%d, X%d", r, r)
		}
	}
}

// body emits the computation of nu consecutive groups from SI (weights),
// R8 (scales) and DX (x) into DI (out). With partial, only the real rows
// of the last group are stored.
func (k *amd64Kernel) body(nu int, lbl string, partial bool) {
	a, m := &k.a, k.m
	for u := range nu {
		switch k.m.ISA {
		case AVX512:
			a.op("VPXORD Z%d, Z%d, Z%d", u, u, u)
		case AVX2:
			a.op("VXORPS Y%d, Y%d, Y%d", u, u, u)
		default:
			a.op("XORPS X%d, X%d", u, u)
		}
	}
	a.op("MOVQ SI, R12")
	a.op("MOVQ DX, R11")
	if m.DType.Quantized() {
		a.op("MOVQ R8, R13")
		a.op("MOVQ $%d, R10", m.K/tensor.BlockSize)
		a.label(lbl + "blocks")
		k.loadScales(nu)
		// A block's 32 columns run as qsub iterations of 32/qsub
		// columns: unrolling all 32 makes kernels large for no gain.
		a.op("MOVQ $%d, R15", qsub)
		a.label(lbl + "sub")
		cols := tensor.BlockSize / qsub
		if m.DType == tensor.Q8_0 {
			for c := range cols {
				k.column(nu, c)
			}
			a.op("ADDQ $%d, R12", cols*k.L)
		} else {
			for c := 0; c < cols; c += 2 {
				k.columnPair(nu, c)
			}
			a.op("ADDQ $%d, R12", cols/2*k.L)
		}
		a.op("ADDQ $%d, R11", 4*cols)
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
				k.column(nu, c)
			}
			a.op("ADDQ $%d, R12", kstep*k.L*m.elemBits()/8)
			a.op("ADDQ $%d, R11", 4*kstep)
			a.op("DECQ R10")
			a.op("JNZ %scols", lbl)
		}
		for c := range m.K % kstep {
			k.column(nu, c)
		}
	}
	if !partial {
		for u := range nu {
			k.store(u, fmt.Sprintf("%d(DI)", u*k.vbytes()))
		}
		return
	}
	k.store(0, "(SP)")
	for j := range m.N % k.L {
		a.op("MOVL %d(SP), AX", 4*j)
		a.op("MOVL AX, %d(DI)", 4*j)
	}
}

func (k *amd64Kernel) store(u int, mem string) {
	if k.avx() {
		k.a.op("VMOVUPS %s, %s", k.v(u), mem)
	} else {
		k.a.op("MOVUPS %s, %s", k.v(u), mem)
	}
}

// loadScales loads each group's scales of the current block (SSE and
// AVX-512; AVX2 multiplies by them from memory).
func (k *amd64Kernel) loadScales(nu int) {
	if k.p.scales == nil {
		return
	}
	for u := range nu {
		mem := fmt.Sprintf("%d(R13)", u*4*k.m.groupScales())
		if k.avx() {
			k.a.op("VMOVUPS %s, %s", mem, k.v(k.p.scales[u]))
		} else {
			k.a.op("MOVUPS %s, %s", mem, k.v(k.p.scales[u]))
		}
	}
}

// scale is group u's scale operand.
func (k *amd64Kernel) scale(u int) string {
	if k.p.scales != nil {
		return k.v(k.p.scales[u])
	}
	return fmt.Sprintf("%d(R13)", u*4*k.m.groupScales())
}

// broadcast loads x[c] (c relative to R11) into every lane of the next x
// register and returns it.
func (k *amd64Kernel) broadcast(c int) string {
	r := k.v(k.p.xb[k.xcur%2])
	k.xcur++
	if k.avx() {
		k.a.op("VBROADCASTSS %d(R11), %s", 4*c, r)
	} else {
		k.a.op("MOVSS %d(R11), %s", 4*c, r)
		k.a.op("SHUFPS $0, %s, %s", r, r)
	}
	return r
}

// weightAddr is the address of group u's weights at column c (relative
// to R12): q8_0 one byte per lane, others their element size.
func (k *amd64Kernel) weightAddr(u, c int) string {
	off := u*k.m.groupBytes() + c*k.L*k.m.elemBits()/8
	return fmt.Sprintf("%d(R12)", off)
}

// column emits acc[u] += w[u][c] * x[c] for the nu groups (f32, f16,
// bf16, q8_0).
func (k *amd64Kernel) column(nu, c int) {
	a := &k.a
	x := k.broadcast(c)
	for u := range nu {
		acc := k.v(u)
		mem := k.weightAddr(u, c)
		t := k.temp()
		if k.avx() {
			switch k.m.DType {
			case tensor.F32:
				a.op("VMULPS %s, %s, %s", mem, x, t)
				a.op("VADDPS %s, %s, %s", t, acc, acc)
				continue
			case tensor.F16:
				a.op("VCVTPH2PS %s, %s", mem, t)
			case tensor.BF16:
				a.op("VPMOVZXWD %s, %s", mem, t)
				a.op("VPSLLD $16, %s, %s", t, t)
			case tensor.Q8_0:
				a.op("VPMOVSXBD %s, %s", mem, t)
				a.op("VCVTDQ2PS %s, %s", t, t)
				a.op("VMULPS %s, %s, %s", k.scale(u), t, t)
			}
			a.op("VMULPS %s, %s, %s", x, t, t)
			a.op("VADDPS %s, %s, %s", t, acc, acc)
			continue
		}
		switch k.m.DType {
		case tensor.F32:
			a.op("MOVUPS %s, %s", mem, t)
		case tensor.BF16:
			a.op("MOVQ %s, %s", mem, t)
			a.op("PUNPCKLWL %s, %s", t, t)
			a.op("PSLLL $16, %s", t)
		case tensor.F16:
			k.sseHalf(mem, t)
		case tensor.Q8_0:
			a.op("MOVSS %s, %s", mem, t)
			a.op("PUNPCKLBW %s, %s", t, t)
			a.op("PUNPCKLWL %s, %s", t, t)
			a.op("PSRAL $24, %s", t)
			a.op("CVTPL2PS %s, %s", t, t)
			a.op("MULPS %s, %s", k.scale(u), t)
		}
		a.op("MULPS %s, %s", x, t)
		a.op("ADDPS %s, %s", t, acc)
	}
}

// sseHalf converts the four halves at mem to float32 in t with SSE2 only
// (no F16C): the half's exponent and fraction, shifted into float32
// position, times 2^112 is the value, exactly, for normal and subnormal
// halves; infinities and NaNs get the all-ones exponent ORed in; then the
// sign. This is kernels.F16ToF32, NaN payloads included.
func (k *amd64Kernel) sseHalf(mem, t string) {
	a, c := &k.a, k.p.consts
	s, i := k.temp(), k.temp()
	a.op("MOVQ %s, %s", mem, t)
	a.op("PUNPCKLWL %s, %s", t, t) // each dword: h | h<<16
	a.op("MOVO %s, %s", t, s)
	a.op("PAND X%d, %s", c["sign"], s)
	a.op("PSRLL $16, %s", t)
	a.op("PAND X%d, %s", c["mag"], t)
	a.op("PSLLL $13, %s", t)
	a.op("MOVO %s, %s", t, i)
	a.op("PCMPGTL X%d, %s", c["thr"], i)
	a.op("PAND X%d, %s", c["inf"], i)
	a.op("MULPS X%d, %s", c["magic"], t)
	a.op("POR %s, %s", i, t)
	a.op("POR %s, %s", s, t)
}

// columnPair emits columns c and c+1 of a q4_0 block: one load gives both
// columns' codes (low and high nibbles).
func (k *amd64Kernel) columnPair(nu, c int) {
	a := &k.a
	x0 := k.broadcast(c)
	x1 := k.broadcast(c + 1)
	var mask, eight string
	if k.m.ISA != AVX512 {
		mask, eight = k.v(k.p.consts["mask"]), k.v(k.p.consts["eight"])
	}
	for u := range nu {
		acc := k.v(u)
		mem := fmt.Sprintf("%d(R12)", u*k.m.groupBytes()+c/2*k.L)
		hi, lo := k.temp(), k.temp()
		if k.m.ISA == AVX512 {
			// A q4 code indexes the table of float32(code - 8): VPERMPS
			// reads the low 4 bits of each lane, so the low nibble needs
			// no mask. The same exact values as subtracting and converting.
			table := k.v(k.p.consts["q4table"])
			a.op("VPMOVZXBD %s, %s", mem, hi)
			a.op("VPERMPS %s, %s, %s", table, hi, lo)
			a.op("VPSRLD $4, %s, %s", hi, hi)
			a.op("VPERMPS %s, %s, %s", table, hi, hi)
			a.op("VMULPS %s, %s, %s", k.scale(u), lo, lo)
			a.op("VMULPS %s, %s, %s", x0, lo, lo)
			a.op("VADDPS %s, %s, %s", lo, acc, acc)
			a.op("VMULPS %s, %s, %s", k.scale(u), hi, hi)
			a.op("VMULPS %s, %s, %s", x1, hi, hi)
			a.op("VADDPS %s, %s, %s", hi, acc, acc)
			continue
		}
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
			a.op("VMULPS %s, %s, %s", k.scale(u), lo, lo)
			a.op("VMULPS %s, %s, %s", x0, lo, lo)
			a.op("VADDPS %s, %s, %s", lo, acc, acc)
			a.op("VMULPS %s, %s, %s", k.scale(u), hi, hi)
			a.op("VMULPS %s, %s, %s", x1, hi, hi)
			a.op("VADDPS %s, %s, %s", hi, acc, acc)
			continue
		}
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
		a.op("MULPS %s, %s", k.scale(u), lo)
		a.op("MULPS %s, %s", x0, lo)
		a.op("ADDPS %s, %s", lo, acc)
		a.op("MULPS %s, %s", k.scale(u), hi)
		a.op("MULPS %s, %s", x1, hi)
		a.op("ADDPS %s, %s", hi, acc)
	}
}

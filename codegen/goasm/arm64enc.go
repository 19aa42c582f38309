package goasm

import "fmt"

// neonInst is one NEON instruction the Go arm64 assembler has no mnemonic
// for (vector float arithmetic and conversions, widening moves): its
// machine word, emitted as a WORD directive, and its GNU assembler
// spelling, emitted as the comment beside it (and checked against the GNU
// assembler by the tests).
type neonInst struct {
	word uint32
	text string
}

// line is the assembly line of the instruction.
func (i neonInst) line() string { return fmt.Sprintf("WORD $0x%08x // %s", i.word, i.text) }

// rrr encodes a three-register vector instruction (Vd, Vn, Vm).
func rrr(base uint32, name, arr string, d, n, m int) neonInst {
	return neonInst{base | uint32(m)<<16 | uint32(n)<<5 | uint32(d),
		fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, arr, n, arr, m, arr)}
}

// rr encodes a two-register vector instruction with the given operand
// arrangements (destination, source) and an optional immediate suffix.
func rr(base uint32, name, darr, narr string, d, n int, suffix string) neonInst {
	return neonInst{base | uint32(n)<<5 | uint32(d),
		fmt.Sprintf("%s v%d.%s, v%d.%s%s", name, d, darr, n, narr, suffix)}
}

// fadd4s is FADD Vd.4S, Vn.4S, Vm.4S (a rounding float32 add per lane).
func fadd4s(d, n, m int) neonInst { return rrr(0x4e20d400, "fadd", "4s", d, n, m) }

// fmul4s is FMUL Vd.4S, Vn.4S, Vm.4S.
func fmul4s(d, n, m int) neonInst { return rrr(0x6e20dc00, "fmul", "4s", d, n, m) }

// fmulElem4s is FMUL Vd.4S, Vn.4S, Vm.S[i]: every lane times one lane of
// Vm (the same rounding multiply as fmul4s; it saves broadcasting x[k]).
func fmulElem4s(d, n, m, i int) neonInst {
	w := uint32(0x4f809000) | uint32(i&1)<<21 | uint32(m)<<16 | uint32(i>>1)<<11 | uint32(n)<<5 | uint32(d)
	return neonInst{w, fmt.Sprintf("fmul v%d.4s, v%d.4s, v%d.s[%d]", d, n, m, i)}
}

// sub4s is SUB Vd.4S, Vn.4S, Vm.4S (integer).
func sub4s(d, n, m int) neonInst { return rrr(0x6ea08400, "sub", "4s", d, n, m) }

// and16b is AND Vd.16B, Vn.16B, Vm.16B.
func and16b(d, n, m int) neonInst { return rrr(0x4e201c00, "and", "16b", d, n, m) }

// scvtf4s is SCVTF Vd.4S, Vn.4S: int32 lanes to float32 (exact for the
// small integers of q8_0/q4_0).
func scvtf4s(d, n int) neonInst { return rr(0x4e21d800, "scvtf", "4s", "4s", d, n, "") }

// sxtl8h is SXTL Vd.8H, Vn.8B (sign-extend the low 8 bytes to halfwords).
func sxtl8h(d, n int) neonInst { return rr(0x0f08a400, "sxtl", "8h", "8b", d, n, "") }

// sxtl2_8h is SXTL2 Vd.8H, Vn.16B (the high 8 bytes).
func sxtl2_8h(d, n int) neonInst { return rr(0x4f08a400, "sxtl2", "8h", "16b", d, n, "") }

// sxtl4s is SXTL Vd.4S, Vn.4H.
func sxtl4s(d, n int) neonInst { return rr(0x0f10a400, "sxtl", "4s", "4h", d, n, "") }

// sxtl2_4s is SXTL2 Vd.4S, Vn.8H.
func sxtl2_4s(d, n int) neonInst { return rr(0x4f10a400, "sxtl2", "4s", "8h", d, n, "") }

// uxtl8h is UXTL Vd.8H, Vn.8B (zero-extend).
func uxtl8h(d, n int) neonInst { return rr(0x2f08a400, "uxtl", "8h", "8b", d, n, "") }

// uxtl4s is UXTL Vd.4S, Vn.4H.
func uxtl4s(d, n int) neonInst { return rr(0x2f10a400, "uxtl", "4s", "4h", d, n, "") }

// uxtl2_4s is UXTL2 Vd.4S, Vn.8H.
func uxtl2_4s(d, n int) neonInst { return rr(0x6f10a400, "uxtl2", "4s", "8h", d, n, "") }

// shll16 is SHLL Vd.4S, Vn.4H, #16 (widen, shifting by the element
// size): a bfloat16 to its float32 bits.
func shll16(d, n int) neonInst { return rr(0x2e613800, "shll", "4s", "4h", d, n, ", #16") }

// shll2_16 is SHLL2 Vd.4S, Vn.8H, #16.
func shll2_16(d, n int) neonInst { return rr(0x6e613800, "shll2", "4s", "8h", d, n, ", #16") }

// ushr4s4 is USHR Vd.4S, Vn.4S, #4: a q4 code from the high nibble.
func ushr4s4(d, n int) neonInst { return rr(0x6f3c0400, "ushr", "4s", "4s", d, n, ", #4") }

// fcvtl4s is FCVTL Vd.4S, Vn.4H: halves to float32 (exact).
func fcvtl4s(d, n int) neonInst { return rr(0x0e217800, "fcvtl", "4s", "4h", d, n, "") }

// fcvtl2_4s is FCVTL2 Vd.4S, Vn.8H.
func fcvtl2_4s(d, n int) neonInst { return rr(0x4e217800, "fcvtl2", "4s", "8h", d, n, "") }

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

// The instructions of the exp and attention kernels: float64 lanes for
// exp (2D), float32 division, negation and subtraction, masks.

// fdiv4s is FDIV Vd.4S, Vn.4S, Vm.4S.
func fdiv4s(d, n, m int) neonInst { return rrr(0x6e20fc00, "fdiv", "4s", d, n, m) }

// fsub4s is FSUB Vd.4S, Vn.4S, Vm.4S.
func fsub4s(d, n, m int) neonInst { return rrr(0x4ea0d400, "fsub", "4s", d, n, m) }

// fneg4s is FNEG Vd.4S, Vn.4S (exact: flips the sign bit).
func fneg4s(d, n int) neonInst { return rr(0x6ea0f800, "fneg", "4s", "4s", d, n, "") }

// fcvtl2d is FCVTL Vd.2D, Vn.2S: the low two float32 lanes to float64.
func fcvtl2d(d, n int) neonInst { return rr(0x0e617800, "fcvtl", "2d", "2s", d, n, "") }

// fcvtl2_2d is FCVTL2 Vd.2D, Vn.4S: the high two lanes.
func fcvtl2_2d(d, n int) neonInst { return rr(0x4e617800, "fcvtl2", "2d", "4s", d, n, "") }

// fcvtn2s is FCVTN Vd.2S, Vn.2D: float64 to float32 (rounding to
// nearest, ties to even) into the low half, zeroing the high half.
func fcvtn2s(d, n int) neonInst { return rr(0x0e616800, "fcvtn", "2s", "2d", d, n, "") }

// fcvtn2_4s is FCVTN2 Vd.4S, Vn.2D: into the high half, keeping the low.
func fcvtn2_4s(d, n int) neonInst { return rr(0x4e616800, "fcvtn2", "4s", "2d", d, n, "") }

// fmul2d, fadd2d and fsub2d are the float64 lane operations.
func fmul2d(d, n, m int) neonInst { return rrr(0x6e60dc00, "fmul", "2d", d, n, m) }
func fadd2d(d, n, m int) neonInst { return rrr(0x4e60d400, "fadd", "2d", d, n, m) }
func fsub2d(d, n, m int) neonInst { return rrr(0x4ee0d400, "fsub", "2d", d, n, m) }

// frintn2d is FRINTN Vd.2D, Vn.2D (round to nearest, ties to even).
func frintn2d(d, n int) neonInst { return rr(0x4e618800, "frintn", "2d", "2d", d, n, "") }

// fcvtzs2d is FCVTZS Vd.2D, Vn.2D (float64 to int64, toward zero).
func fcvtzs2d(d, n int) neonInst { return rr(0x4ee1b800, "fcvtzs", "2d", "2d", d, n, "") }

// add2d and sub2d are 64-bit integer lane operations.
func add2d(d, n, m int) neonInst { return rrr(0x4ee08400, "add", "2d", d, n, m) }
func sub2d(d, n, m int) neonInst { return rrr(0x6ee08400, "sub", "2d", d, n, m) }

// shl2d52 is SHL Vd.2D, Vn.2D, #52 (an exponent into place).
func shl2d52(d, n int) neonInst { return rr(0x4f745400, "shl", "2d", "2d", d, n, ", #52") }

// cmhi2d is CMHI Vd.2D, Vn.2D, Vm.2D (unsigned n > m: all ones).
func cmhi2d(d, n, m int) neonInst { return rrr(0x6ee03400, "cmhi", "2d", d, n, m) }

// fcmge2d and fcmgt2d compare float64 lanes (false for NaN).
func fcmge2d(d, n, m int) neonInst { return rrr(0x6e60e400, "fcmge", "2d", d, n, m) }
func fcmgt2d(d, n, m int) neonInst { return rrr(0x6ee0e400, "fcmgt", "2d", d, n, m) }

// orr16b, bic16b (n AND NOT m), orn16b (n OR NOT m) and mvn16b (NOT n)
// are bitwise operations on whole registers.
func orr16b(d, n, m int) neonInst { return rrr(0x4ea01c00, "orr", "16b", d, n, m) }
func bic16b(d, n, m int) neonInst { return rrr(0x4e601c00, "bic", "16b", d, n, m) }
func orn16b(d, n, m int) neonInst { return rrr(0x4ee01c00, "orn", "16b", d, n, m) }
func mvn16b(d, n int) neonInst    { return rr(0x6e205800, "mvn", "16b", "16b", d, n, "") }

package goasm

import "fmt"

// attnScoresARM64 is NAME_scores for NEON (see attnScoresAMD64): lanes
// are positions, attnBlocks registers of 4 in flight (V0..V3), q[i] in
// V4's lane 0, the keys of 16 positions in V5..V8, sqrt(HeadDim) in V31.
func attnScoresARM64(a Attn) string {
	var s asmText
	neon := func(i neonInst) { s.op("%s", i.line()) }
	fmt.Fprintf(&s.b, "// func %s_scores(scores, q, keysT *float32, npos int)\n", a.Name())
	fmt.Fprintf(&s.b, "TEXT ·%s_scores(SB), NOSPLIT, $0-32\n", a.Name())
	s.op("MOVD scores+0(FP), R0")
	s.op("MOVD q+8(FP), R1")
	s.op("MOVD keysT+16(FP), R2")
	s.op("MOVD npos+24(FP), R3")
	s.op("MOVW $0x%x, R4", a.scaleBits())
	s.op("VDUP R4, V31.S4")
	s.op("MOVD $0, R5")
	s.label("block")
	s.op("CMP R3, R5")
	s.op("BGE done")
	for j := range attnBlocks {
		s.op("VEOR V%d.B16, V%d.B16, V%d.B16", j, j, j)
	}
	s.op("ADD R5<<2, R2, R6")
	s.op("MOVD R1, R7")
	s.op("MOVD $%d, R8", a.HeadDim)
	s.label("dim")
	s.op("FMOVS.P 4(R7), F4")
	s.op("VLD1 (R6), [V5.S4, V6.S4, V7.S4, V8.S4]")
	for j := range attnBlocks {
		neon(fmulElem4s(5+j, 5+j, 4, 0))
		neon(fadd4s(j, j, 5+j))
	}
	s.op("ADD $%d, R6, R6", 4*a.CtxPad)
	s.op("SUBS $1, R8, R8")
	s.op("BNE dim")
	for j := range attnBlocks {
		neon(fdiv4s(j, j, 31))
	}
	s.op("ADD R5<<2, R0, R9")
	s.op("VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R9)")
	s.op("ADD $%d, R5, R5", attnBlocks*4)
	s.op("B block")
	s.label("done")
	s.op("RET")
	return s.b.String()
}

// attnValuesARM64 is NAME_values for NEON: lanes are the head's
// dimensions, up to 8 registers of 4 per pass (V0..V7), the value row in
// V16..V23, weights[t] in V31's lane 0.
func attnValuesARM64(a Attn) string {
	var s asmText
	neon := func(i neonInst) { s.op("%s", i.line()) }
	fmt.Fprintf(&s.b, "// func %s_values(out, weights, values *float32, npos int)\n", a.Name())
	fmt.Fprintf(&s.b, "TEXT ·%s_values(SB), NOSPLIT, $0-32\n", a.Name())
	s.op("MOVD out+0(FP), R0")
	s.op("MOVD weights+8(FP), R1")
	s.op("MOVD values+16(FP), R2")
	s.op("MOVD npos+24(FP), R3")
	regs := a.HeadDim / 4
	off := 0
	for pass := 0; off < regs; pass++ {
		n := min(regs-off, 8)
		for j := range n {
			s.op("VEOR V%d.B16, V%d.B16, V%d.B16", j, j, j)
		}
		s.op("ADD $%d, R2, R6", 16*off)
		s.op("MOVD R1, R7")
		s.op("MOVD R3, R8")
		s.label(fmt.Sprintf("pos%d", pass))
		s.op("FMOVS.P 4(R7), F31")
		for j := 0; j < n; j += 4 {
			m := min(4, n-j)
			list := ""
			for r := range m {
				if r > 0 {
					list += ", "
				}
				list += fmt.Sprintf("V%d.S4", 16+j+r)
			}
			s.op("ADD $%d, R6, R9", 16*j)
			s.op("VLD1 (R9), [%s]", list)
		}
		for j := range n {
			neon(fmulElem4s(16+j, 16+j, 31, 0))
			neon(fadd4s(j, j, 16+j))
		}
		s.op("ADD $%d, R6, R6", 4*a.KVDim)
		s.op("SUBS $1, R8, R8")
		s.op("BNE pos%d", pass)
		for j := range n {
			s.op("FMOVQ F%d, %d(R0)", j, 16*(off+j))
		}
		off += n
	}
	s.op("RET")
	return s.b.String()
}

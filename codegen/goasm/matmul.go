package goasm

import (
	"fmt"
	"strings"
)

// MatMulRows is how many input rows one call of a matmul kernel's
// assembly computes together: each weight vector is loaded (and
// dequantized) once and used for that many rows, which is where prompt
// processing gets its speed over one matvec per token.
const MatMulRows = 4

// rowsBlockBytes is how many bytes of weights one block of row groups
// holds in a several-rows product: every pass over the input rows runs a
// block before the next block starts, so the block stays in a 1 MiB L2.
const rowsBlockBytes = 256 << 10

// RowsName is the Go identifier of kernel m's several-rows form,
// NAME_rows, with the signature
//
//	func NAME_rows(out []float32, w []byte, s []float32, x []float32, rows, stride, g0, g1 int)
//
// It computes, for r = 0..rows-1, groups g0..g1-1 of out[r*stride:] =
// W x[r*stride:], each row bit for bit what NAME computes for it (the same
// sequential float32 sum per output, separate multiply and add). The
// amd64 and NEON kernels run MatMulRows rows per pass over the weights;
// other architectures (and the rows left over) call NAME per row. Output rows
// must not overlap input rows.
func (m MatVec) RowsName() string { return m.Name() + "_rows" }

// matmulFiles returns the several-rows kernels' files: matmul_gen.go
// (the table), matmul_amd64_gen.go and .s (assembly for the amd64 ISAs),
// matmul_arm64_gen.go and .s (NEON), matmul_other_gen.go (every other
// GOARCH: NAME per row). They call only
// NAME, so a package whose matvec files come from another generator (the
// llvm backend replaces matvec_*) keeps them.
func matmulFiles(pkg string, ks []MatVec) []struct {
	name, src string
	gofmt     bool
} {
	type f = struct {
		name, src string
		gofmt     bool
	}
	files := []f{{"matmul_gen.go", matmulTableGo(pkg, ks), true}}
	for _, arch := range []string{"amd64", "arm64"} {
		files = append(files, f{"matmul_" + arch + "_gen.go", matmulArchGo(pkg, arch, ks), true})
		if s := matmulAsm(arch, ks); s != "" {
			files = append(files, f{"matmul_" + arch + "_gen.s", s, false})
		}
	}
	return append(files, f{"matmul_other_gen.go", matmulArchGo(pkg, "", ks), true})
}

// matmulTableGo is matmul_gen.go: the several-rows kernels by matvec name.
func matmulTableGo(pkg string, ks []MatVec) string {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	b.WriteString("// matmulKernels maps each matvec kernel's name to its several-rows form.\n")
	b.WriteString("var matmulKernels = map[string]func(out []float32, w []byte, s []float32, x []float32, rows, stride, g0, g1 int){\n")
	for _, m := range ks {
		fmt.Fprintf(&b, "\t%q: %s,\n", m.Name(), m.RowsName())
	}
	b.WriteString("}\n")
	return b.String()
}

// matmulAsmHere reports whether m's several-rows form has assembly for
// arch.
func matmulAsmHere(m MatVec, arch string) bool { return arch != "" && m.ISA.GOARCH() == arch }

// matmulArchGo is matmul_<arch>_gen.go (arch "" for every GOARCH but
// amd64 and arm64).
func matmulArchGo(pkg, arch string, ks []MatVec) string {
	var b strings.Builder
	b.WriteString(archGoHeader(pkg, arch))
	for _, m := range ks {
		name, rn := m.Name(), m.RowsName()
		asm := matmulAsmHere(m, arch)
		if asm {
			fmt.Fprintf(&b, "// %s_asm computes %d rows of %s (x and out rows stride floats apart).\n//\n//go:noescape\n", rn, MatMulRows, name)
			fmt.Fprintf(&b, "func %s_asm(out *float32, w *byte, s *float32, x *float32, stride, g0, g1 int)\n\n", rn)
			if m.ISA == AVX512 || m.ISA == AVX2 || m.ISA == NEON {
				fmt.Fprintf(&b, "// %s8_asm computes 8 rows.\n//\n//go:noescape\n", rn)
				fmt.Fprintf(&b, "func %s8_asm(out *float32, w *byte, s *float32, x *float32, stride, g0, g1 int)\n\n", rn)
			}
		}
		fmt.Fprintf(&b, "// %s computes out[r*stride:] = W x[r*stride:] for rows r < rows and groups g0..g1-1, each row as %s does.\n", rn, name)
		fmt.Fprintf(&b, "func %s(out []float32, w []byte, s []float32, x []float32, rows, stride, g0, g1 int) {\n", rn)
		fmt.Fprintf(&b, "\tif g0 < 0 || g1 > %d || g0 > g1 || rows < 0 || stride < 0 {\n\t\tpanic(%q)\n\t}\n", m.Groups(), rn+": arguments out of range")
		b.WriteString("\tif g0 == g1 {\n\t\treturn\n\t}\n")
		b.WriteString("\tr := 0\n")
		if asm {
			// Passes of step rows (8 on AVX-512 and AVX2, else 4) cover
			// all rows; the last pass ends at the last row, overlapping
			// the one before when rows is not a multiple of step: it
			// recomputes some rows to the same bits instead of sending the
			// rest through the matvec one row at a time, which on a large
			// matrix streams all its weights again per row. The passes run
			// block of row groups by block, so a block's weights stay in
			// L2 for every pass after the first.
			sp := "nil"
			if m.DType.Quantized() {
				sp = "&s[0]"
			}
			kernels := []struct {
				name string
				step int
			}{{rn + "_asm", MatMulRows}}
			if m.ISA == AVX512 || m.ISA == AVX2 || m.ISA == NEON {
				kernels = []struct {
					name string
					step int
				}{{rn + "8_asm", 8}, {rn + "_asm", MatMulRows}}
			}
			block := max(1, rowsBlockBytes/m.groupBytes())
			fmt.Fprintf(&b, "\tif rows >= %d {\n", MatMulRows)
			fmt.Fprintf(&b, "\t\t_ = out[(rows-1)*stride+min(g1*%d, %d)-1]\n", m.Lanes(), m.N)
			fmt.Fprintf(&b, "\t\t_ = x[(rows-1)*stride+%d]\n", m.K-1)
			fmt.Fprintf(&b, "\t\t_ = w[g1*%d-1]\n", m.groupBytes())
			if m.DType.Quantized() {
				fmt.Fprintf(&b, "\t\t_ = s[g1*%d-1]\n", m.groupScales())
			}
			fmt.Fprintf(&b, "\t\tstep := %d\n", kernels[len(kernels)-1].step)
			if len(kernels) == 2 {
				b.WriteString("\t\tif rows >= 8 {\n\t\t\tstep = 8\n\t\t}\n")
			}
			fmt.Fprintf(&b, "\t\tfor gb := g0; gb < g1; gb += %d {\n", block)
			fmt.Fprintf(&b, "\t\t\tge := min(gb+%d, g1)\n", block)
			b.WriteString("\t\t\tfor rm := 0; rm < rows; rm += step {\n")
			b.WriteString("\t\t\t\tr0 := min(rm, rows-step)\n")
			if len(kernels) == 2 {
				b.WriteString("\t\t\t\tif step == 8 {\n")
				fmt.Fprintf(&b, "\t\t\t\t\t%s(&out[r0*stride], &w[0], %s, &x[r0*stride], stride, gb, ge)\n", kernels[0].name, sp)
				b.WriteString("\t\t\t\t\tcontinue\n\t\t\t\t}\n")
			}
			fmt.Fprintf(&b, "\t\t\t\t%s(&out[r0*stride], &w[0], %s, &x[r0*stride], stride, gb, ge)\n", kernels[len(kernels)-1].name, sp)
			b.WriteString("\t\t\t}\n\t\t}\n\t\treturn\n\t}\n")
		}
		b.WriteString("\tfor ; r < rows; r++ {\n")
		fmt.Fprintf(&b, "\t\t%s(out[r*stride:], w, s, x[r*stride:], g0, g1)\n\t}\n}\n\n", name)
	}
	return b.String()
}

// matmulAsm is matmul_<arch>_gen.s, or "" when no kernel is for arch.
func matmulAsm(arch string, ks []MatVec) string {
	var b strings.Builder
	n := 0
	for _, m := range ks {
		if !matmulAsmHere(m, arch) {
			continue
		}
		if n == 0 {
			b.WriteString(archAsmHeader(arch))
			if arch == "amd64" && needsQ4Table(ks) {
				b.WriteString("\n" + q4Table())
			}
		}
		n++
		b.WriteString("\n")
		switch {
		case arch == "arm64":
			b.WriteString(emitMatMulARM64(m, 4))
			b.WriteString("\n")
			b.WriteString(emitMatMulARM64(m, 8))
		case m.ISA == AVX512 || m.ISA == AVX2:
			b.WriteString(emitMatMulAMD64(m, 4))
			b.WriteString("\n")
			b.WriteString(emitMatMulAMD64(m, 8))
		default:
			b.WriteString(emitMatMulAMD64(m, 4))
		}
	}
	return b.String()
}

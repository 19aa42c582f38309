package goasm

import (
	"fmt"
	"strings"

	"github.com/omex-dev/omex/tensor"
)

// fallbackGo returns the Go source of kernel m's pure-Go fallback,
// NAME_go: the same float32 operations per output row as the assembly and
// as runtime/kernels' MatVec (one sequential sum per row, a rounding after
// every multiply and add), reading the interleaved layout. It is what
// builds for other architectures run, and the tests' second opinion.
func fallbackGo(m MatVec) string {
	var b strings.Builder
	name := m.Name()
	fmt.Fprintf(&b, "// %s_go is %s in pure Go: the same float32 operations in the same order.\n", name, name)
	fmt.Fprintf(&b, "func %s_go(out []float32, w []byte, s []float32, x []float32, g0, g1 int) {\n", name)
	fmt.Fprintf(&b, "\tconst n, k, lanes, groups = %d, %d, %d, %d\n", m.N, m.K, m.Lanes(), m.Groups())
	fmt.Fprintf(&b, "\tif !matvecRange(%q, g0, g1, groups) {\n\t\treturn\n\t}\n", name)
	b.WriteString("\tx = x[:k]\n")
	b.WriteString("\tfor g := g0; g < g1; g++ {\n")
	switch m.DType {
	case tensor.F32:
		b.WriteString("\t\twg := kernels.AsFloat32(w[g*k*lanes*4 : (g+1)*k*lanes*4])\n")
	case tensor.F16, tensor.BF16:
		b.WriteString("\t\twg := w[g*k*lanes*2 : (g+1)*k*lanes*2]\n")
	case tensor.Q8_0:
		b.WriteString("\t\twg := w[g*k*lanes : (g+1)*k*lanes]\n")
	case tensor.Q4_0:
		b.WriteString("\t\twg := w[g*k*lanes/2 : (g+1)*k*lanes/2]\n")
	}
	if m.DType.Quantized() {
		fmt.Fprintf(&b, "\t\tsg := s[g*k/%d*lanes : (g+1)*k/%d*lanes]\n", tensor.BlockSize, tensor.BlockSize)
	}
	b.WriteString("\t\tfor j := range min(lanes, n-g*lanes) {\n")
	b.WriteString("\t\t\tvar acc float32\n")
	b.WriteString("\t\t\tfor c, xc := range x {\n")
	switch m.DType {
	case tensor.F32:
		b.WriteString("\t\t\t\tacc += float32(wg[c*lanes+j] * xc)\n")
	case tensor.F16:
		b.WriteString("\t\t\t\ti := 2 * (c*lanes + j)\n")
		b.WriteString("\t\t\t\tv := kernels.F16ToF32(uint16(wg[i]) | uint16(wg[i+1])<<8)\n")
		b.WriteString("\t\t\t\tacc += float32(v * xc)\n")
	case tensor.BF16:
		b.WriteString("\t\t\t\ti := 2 * (c*lanes + j)\n")
		b.WriteString("\t\t\t\tv := kernels.BF16ToF32(uint16(wg[i]) | uint16(wg[i+1])<<8)\n")
		b.WriteString("\t\t\t\tacc += float32(v * xc)\n")
	case tensor.Q8_0:
		fmt.Fprintf(&b, "\t\t\t\tv := float32(int8(wg[c*lanes+j])) * sg[c/%d*lanes+j]\n", tensor.BlockSize)
		b.WriteString("\t\t\t\tacc += float32(v * xc)\n")
	case tensor.Q4_0:
		b.WriteString("\t\t\t\tq := wg[c/2*lanes+j] >> (4 * (c % 2)) & 0x0f\n")
		fmt.Fprintf(&b, "\t\t\t\tv := float32(int(q)-8) * sg[c/%d*lanes+j]\n", tensor.BlockSize)
		b.WriteString("\t\t\t\tacc += float32(v * xc)\n")
	}
	b.WriteString("\t\t\t}\n")
	b.WriteString("\t\t\tout[g*lanes+j] = acc\n")
	b.WriteString("\t\t}\n\t}\n}\n")
	return b.String()
}

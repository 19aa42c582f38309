package llvm

import (
	"fmt"
	"strings"

	"github.com/omex-dev/omex/tensor"
)

// groupRangeFunc is the range check the generated matvec functions share
// (goasm's matvecRange, under a name of this backend's own).
const groupRangeFunc = `// llvmGroupRange checks a matvec's group range: it reports false for an
// empty one and panics, naming the kernel, for one outside 0..groups.
func llvmGroupRange(name string, g0, g1, groups int) bool {
	if g0 < 0 || g1 > groups || g0 > g1 {
		panic(name + ": group range out of bounds")
	}
	return g0 < g1
}
`

func (k MatVec) goFunc() string {
	var b strings.Builder
	name, l := k.Name(), k.Lanes()
	fmt.Fprintf(&b, "// %s computes out = W x for groups g0..g1-1 of the %dx%d %v weight (%d rows per group), with LLVM's kernel.\n", name, k.N, k.K, k.DType, l)
	fmt.Fprintf(&b, "func %s(out []float32, w []byte, s []float32, x []float32, g0, g1 int) {\n", name)
	fmt.Fprintf(&b, "\tif !llvmGroupRange(%q, g0, g1, %d) {\n\t\treturn\n\t}\n", name, k.Groups())
	fmt.Fprintf(&b, "\t_ = out[min(g1*%d, %d)-1]\n", l, k.N)
	fmt.Fprintf(&b, "\t_ = w[g1*%d-1]\n", k.GroupBytes())
	fmt.Fprintf(&b, "\t_ = x[%d]\n", k.K-1)
	sp := "nil"
	if k.DType.Quantized() {
		fmt.Fprintf(&b, "\t_ = s[g1*%d-1]\n", k.GroupScales())
		sp = "&s[0]"
	}
	fmt.Fprintf(&b, "\t%s_asm(&out[0], &w[0], %s, &x[0], g0, g1)\n}\n", name, sp)
	return b.String()
}

// goFallback is the matvec in pure Go over the same interleaved layout:
// the float32 operations of the kernel, in its order (each product
// converted to float32 before the add, which forbids Go from fusing them
// on FMA machines).
func (k MatVec) goFallback() string {
	var b strings.Builder
	name := k.Name()
	fmt.Fprintf(&b, "// %s computes out = W x for groups g0..g1-1 in pure Go (no LLVM kernel on this GOARCH): the same float32 operations in the same order.\n", name)
	fmt.Fprintf(&b, "func %s(out []float32, w []byte, s []float32, x []float32, g0, g1 int) {\n", name)
	fmt.Fprintf(&b, "\tconst n, k, lanes = %d, %d, %d\n", k.N, k.K, k.Lanes())
	fmt.Fprintf(&b, "\tif !llvmGroupRange(%q, g0, g1, %d) {\n\t\treturn\n\t}\n", name, k.Groups())
	b.WriteString("\tx = x[:k]\n")
	if k.DType == tensor.F32 {
		b.WriteString("\twf := kernels.AsFloat32(w)\n")
	}
	b.WriteString("\tfor g := g0; g < g1; g++ {\n")
	b.WriteString("\t\tfor j := range min(lanes, n-g*lanes) {\n")
	b.WriteString("\t\t\tvar acc float32\n")
	b.WriteString("\t\t\tfor c, xc := range x {\n")
	bs := tensor.BlockSize
	switch k.DType {
	case tensor.F32:
		b.WriteString("\t\t\t\tv := wf[(g*k+c)*lanes+j]\n")
	case tensor.F16, tensor.BF16:
		conv := "F16ToF32"
		if k.DType == tensor.BF16 {
			conv = "BF16ToF32"
		}
		b.WriteString("\t\t\t\ti := 2 * ((g*k+c)*lanes + j)\n")
		fmt.Fprintf(&b, "\t\t\t\tv := kernels.%s(uint16(w[i]) | uint16(w[i+1])<<8)\n", conv)
	case tensor.Q8_0:
		fmt.Fprintf(&b, "\t\t\t\tv := float32(int8(w[(g*k+c)*lanes+j])) * s[(g*k/%d+c/%d)*lanes+j]\n", bs, bs)
	case tensor.Q4_0:
		b.WriteString("\t\t\t\tq := w[(g*k/2+c/2)*lanes+j] >> (4 * (c % 2)) & 0x0f\n")
		fmt.Fprintf(&b, "\t\t\t\tv := float32(int(q)-8) * s[(g*k/%d+c/%d)*lanes+j]\n", bs, bs)
	}
	b.WriteString("\t\t\t\tacc += float32(v * xc)\n")
	b.WriteString("\t\t\t}\n\t\t\tout[g*lanes+j] = acc\n\t\t}\n\t}\n}\n")
	return b.String()
}

func (k Elementwise) goFunc() string {
	var b strings.Builder
	name := k.Name()
	if k.Op == OpRMSNorm {
		fmt.Fprintf(&b, "// %s writes w * (x / rms(x)) over %d elements to out (out may be x), with LLVM's kernel: runtime/kernels.RMSNorm bit for bit.\n", name, k.N)
		fmt.Fprintf(&b, "func %s(out, x, w []float32, eps float32) {\n", name)
		fmt.Fprintf(&b, "\t_, _, _ = out[%d], x[%d], w[%d]\n", k.N-1, k.N-1, k.N-1)
		fmt.Fprintf(&b, "\t%s_asm(&out[0], &x[0], &w[0], eps)\n}\n", name)
		return b.String()
	}
	fmt.Fprintf(&b, "// %s does dst[i] %s= src[i] over %d elements, with LLVM's kernel: runtime/kernels.%s bit for bit.\n", name, opSign(k.Op), k.N, opFunc(k.Op))
	fmt.Fprintf(&b, "func %s(dst, src []float32) {\n", name)
	fmt.Fprintf(&b, "\t_, _ = dst[%d], src[%d]\n", k.N-1, k.N-1)
	fmt.Fprintf(&b, "\t%s_asm(&dst[0], &src[0])\n}\n", name)
	return b.String()
}

func (k Elementwise) goFallback() string {
	var b strings.Builder
	name := k.Name()
	if k.Op == OpRMSNorm {
		fmt.Fprintf(&b, "// %s is runtime/kernels.RMSNorm over %d elements (no LLVM kernel on this GOARCH).\n", name, k.N)
		fmt.Fprintf(&b, "func %s(out, x, w []float32, eps float32) {\n", name)
		fmt.Fprintf(&b, "\tkernels.RMSNorm(out[:%d], x[:%d], w[:%d], eps)\n}\n", k.N, k.N, k.N)
		return b.String()
	}
	fmt.Fprintf(&b, "// %s is runtime/kernels.%s over %d elements (no LLVM kernel on this GOARCH).\n", name, opFunc(k.Op), k.N)
	fmt.Fprintf(&b, "func %s(dst, src []float32) {\n", name)
	fmt.Fprintf(&b, "\tkernels.%s(dst[:%d], src[:%d])\n}\n", opFunc(k.Op), k.N, k.N)
	return b.String()
}

func opSign(op string) string {
	if op == OpMul {
		return "*"
	}
	return "+"
}

func opFunc(op string) string {
	if op == OpMul {
		return "Mul"
	}
	return "Add"
}

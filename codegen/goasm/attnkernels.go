package goasm

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Attn describes one generated attention kernel: multi-head attention of
// one query row over the KV cache, for heads of HeadDim values sharing
// KV heads of a cache row of KVDim floats (grouped-query attention),
// exactly as runtime/kernels.Attention computes it.
//
// The reference's float32 order is kept by choosing the vector lanes:
// a score's dot product is a sum over the head dimension in order, so the
// lanes run over positions (each lane one position's sum); a value
// output is a sum over positions in order, so the lanes run over the
// head dimension. Positions-as-lanes needs the keys transposed: the
// kernel reads a key cache laid out [KVDim][CtxPad] (CtxPad: the context
// rounded up to whole blocks of positions, so the last block reads
// padding, never past the cache). The values stay [ctx][KVDim]. Softmax
// between the two is the ISA's exp kernel.
//
// The generated Go function is
//
//	func NAME(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32)
//
// with scores at least CtxPad long (the scores kernel writes whole
// blocks).
type Attn struct {
	ISA            ISA
	HeadDim, KVDim int
	CtxPad         int
}

// attnBlocks is the number of lane groups of positions the scores kernel
// keeps in flight (independent sums).
const attnBlocks = 4

// AttnBlock is the number of positions one step of ISA i's scores kernel
// computes: CtxPad is a multiple of it. 0 means i has no attention
// kernel.
func AttnBlock(i ISA) int {
	if expGroup(i) == 0 {
		return 0
	}
	return attnBlocks * i.Lanes()
}

// AttnFor returns the kernel for a cache of ctx positions, and whether the
// ISA has one for that head size (a multiple of 4 up to 256).
func AttnFor(i ISA, headDim, kvDim, ctx int) (Attn, bool) {
	b := AttnBlock(i)
	if b == 0 || headDim%4 != 0 || headDim > 256 || kvDim%headDim != 0 || ctx < 1 {
		return Attn{}, false
	}
	return Attn{ISA: i, HeadDim: headDim, KVDim: kvDim, CtxPad: (ctx + b - 1) / b * b}, true
}

// Name is the kernel's Go identifier.
func (a Attn) Name() string {
	return fmt.Sprintf("attention_%s_%dx%d_%d", a.ISA, a.HeadDim, a.KVDim, a.CtxPad)
}

// scaleBits is the float32 bits of sqrt(HeadDim), the divisor of the
// scores (runtime/kernels.Attend's).
func (a Attn) scaleBits() uint32 { return math.Float32bits(float32(math.Sqrt(float64(a.HeadDim)))) }

// AttnFiles returns the source files of package pkg holding the attention
// kernels (duplicates once): attn_gen.go with each kernel's Go function,
// its pure-Go fallback NAME_go and the table attnKernels;
// attn_amd64_gen.go and attn_arm64_gen.go with .s files holding the
// assembly; attn_other_gen.go, where every kernel is its fallback. The package must also hold the ISAs' exp
// kernels (ExpFiles), whose softmax the kernels call.
func AttnFiles(pkg string, ks []Attn) ([]File, error) {
	ks = slices.Clone(ks)
	slices.SortFunc(ks, func(a, b Attn) int { return strings.Compare(a.Name(), b.Name()) })
	ks = slices.Compact(ks)
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	b.WriteString(`// attnKernel is one generated attention kernel (codegen/goasm.Attn).
type attnKernel struct {
	name, isa, goarch       string
	headDim, kvDim, ctxPad  int
	fn, fallback            func(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32)
}

// attnKernels lists the generated attention kernels in name order.
var attnKernels = []attnKernel{
`)
	for _, a := range ks {
		fmt.Fprintf(&b, "\t{%q, %q, %q, %d, %d, %d, %s, %s_go},\n", a.Name(), a.ISA, a.ISA.GOARCH(), a.HeadDim, a.KVDim, a.CtxPad, a.Name(), a.Name())
	}
	b.WriteString("}\n\n")
	b.WriteString(`// attnCheck panics, naming the kernel, when the slices cannot hold what
// the kernel reads and writes.
func attnCheck(name string, out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32, headDim, kvDim, ctxPad, block int) {
	if kvHeads < 1 || heads%kvHeads != 0 || kvHeads*headDim != kvDim || npos < 1 || npos > ctxPad ||
		len(out) < heads*headDim || len(q) < heads*headDim || len(keysT) < kvDim*ctxPad ||
		len(values) < npos*kvDim || len(scores) < (npos+block-1)/block*block {
		panic(name + ": arguments do not fit the kernel")
	}
}

`)
	for _, a := range ks {
		fmt.Fprintf(&b, `// %[1]s_go is %[1]s in Go: the same sums in the same order.
func %[1]s_go(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32) {
	attnCheck(%[1]q, out, q, keysT, values, heads, kvHeads, npos, scores, %[2]d, %[3]d, %[4]d, 1)
	scale := math.Float32frombits(0x%[5]x)
	for h := range heads {
		kv := h / (heads / kvHeads) * %[2]d
		qh := q[h*%[2]d : (h+1)*%[2]d]
		for t := range npos {
			var s float32
			for i, qi := range qh {
				s += float32(qi * keysT[(kv+i)*%[4]d+t])
			}
			scores[t] = s / scale
		}
		%[6]s(scores[:npos])
		o := out[h*%[2]d : (h+1)*%[2]d]
		clear(o)
		for t, w := range scores[:npos] {
			vt := values[t*%[3]d+kv : t*%[3]d+kv+%[2]d]
			for i := range o {
				o[i] += float32(w * vt[i])
			}
		}
	}
}

`, a.Name(), a.HeadDim, a.KVDim, a.CtxPad, a.scaleBits(), "softmax_"+string(a.ISA))
	}
	common, err := formatGo("attn_gen.go", strings.Replace(b.String(), "package "+pkg+"\n", "package "+pkg+"\n\nimport \"math\"\n", 1))
	if err != nil {
		return nil, err
	}
	files := []File{{"attn_gen.go", common}}
	fallback := func(w *strings.Builder, a Attn) {
		fmt.Fprintf(w, "// %[1]s runs its fallback on this GOARCH.\nfunc %[1]s(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32) {\n\t%[1]s_go(out, q, keysT, values, heads, kvHeads, npos, scores)\n}\n\n", a.Name())
	}
	emit := map[string][2]func(Attn) string{
		"amd64": {attnScoresAMD64, attnValuesAMD64},
		"arm64": {attnScoresARM64, attnValuesARM64},
	}
	for _, arch := range []string{"amd64", "arm64", ""} {
		var g, asm strings.Builder
		name := "attn_other_gen.go"
		if arch != "" {
			name = "attn_" + arch + "_gen.go"
		}
		g.WriteString(archGoHeader(pkg, arch))
		for _, a := range ks {
			if arch == "" || a.ISA.GOARCH() != arch {
				fallback(&g, a)
				continue
			}
			fmt.Fprintf(&g, `//go:noescape
func %[1]s_scores(scores, q, keysT *float32, npos int)

//go:noescape
func %[1]s_values(out, weights, values *float32, npos int)

// %[1]s is kernels.Attention over a transposed key cache (codegen/goasm.Attn).
func %[1]s(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32) {
	attnCheck(%[1]q, out, q, keysT, values, heads, kvHeads, npos, scores, %[2]d, %[3]d, %[4]d, %[5]d)
	mul := heads / kvHeads
	for h := range heads {
		kv := h / mul * %[2]d
		%[1]s_scores(&scores[0], &q[h*%[2]d], &keysT[kv*%[4]d], npos)
		%[6]s(scores[:npos])
		%[1]s_values(&out[h*%[2]d], &scores[0], &values[kv], npos)
	}
}

`, a.Name(), a.HeadDim, a.KVDim, a.CtxPad, AttnBlock(a.ISA), "softmax_"+string(a.ISA))
			if asm.Len() == 0 {
				asm.WriteString(archAsmHeader(arch))
			}
			asm.WriteString("\n" + emit[arch][0](a) + "\n" + emit[arch][1](a))
		}
		data, err := formatGo(name, g.String())
		if err != nil {
			return nil, err
		}
		files = append(files, File{name, data})
		if asm.Len() > 0 {
			files = append(files, File{"attn_" + arch + "_gen.s", []byte(asm.String())})
		}
	}
	return files, nil
}

// attnVec is a vector register file of an amd64 ISA: a register's name
// by lane count.
func attnReg(lanes, r int) string {
	switch lanes {
	case 16:
		return fmt.Sprintf("Z%d", r)
	case 8:
		return fmt.Sprintf("Y%d", r)
	}
	return fmt.Sprintf("X%d", r)
}

// attnScoresAMD64 is NAME_scores: scores[t] = (sum over i in order of
// q[i]*keysT[i*CtxPad+t]) / sqrt(HeadDim), for whole blocks of positions
// up to npos; lanes are positions, attnBlocks groups of them in flight.
func attnScoresAMD64(a Attn) string {
	var s asmText
	l := a.ISA.Lanes()
	r := func(i int) string { return attnReg(l, i) }
	fmt.Fprintf(&s.b, "// func %s_scores(scores, q, keysT *float32, npos int)\n", a.Name())
	fmt.Fprintf(&s.b, "TEXT ·%s_scores(SB), NOSPLIT, $0-32\n", a.Name())
	s.op("MOVQ scores+0(FP), DI")
	s.op("MOVQ q+8(FP), SI")
	s.op("MOVQ keysT+16(FP), DX")
	s.op("MOVQ npos+24(FP), CX")
	s.op("MOVL $0x%x, BX", a.scaleBits())
	s.op("VMOVD BX, X15")
	s.op("VBROADCASTSS X15, %s", r(15))
	s.op("XORQ AX, AX")
	s.label("block")
	s.op("CMPQ AX, CX")
	s.op("JGE done")
	for j := range attnBlocks {
		s.op("VXORPS %s, %s, %s", r(j), r(j), r(j))
	}
	s.op("LEAQ (DX)(AX*4), R8")
	s.op("MOVQ SI, R9")
	s.op("MOVQ $%d, R10", a.HeadDim)
	s.label("dim")
	s.op("VBROADCASTSS (R9), %s", r(4))
	for j := range attnBlocks {
		s.op("VMULPS %d(R8), %s, %s", 4*l*j, r(4), r(5+j))
		s.op("VADDPS %s, %s, %s", r(5+j), r(j), r(j))
	}
	s.op("ADDQ $4, R9")
	s.op("ADDQ $%d, R8", 4*a.CtxPad)
	s.op("DECQ R10")
	s.op("JNZ dim")
	for j := range attnBlocks {
		s.op("VDIVPS %s, %s, %s", r(15), r(j), r(j))
		s.op("VMOVUPS %s, %d(DI)(AX*4)", r(j), 4*l*j)
	}
	s.op("ADDQ $%d, AX", attnBlocks*l)
	s.op("JMP block")
	s.label("done")
	s.op("VZEROUPPER")
	s.op("RET")
	return s.b.String()
}

// attnValuesAMD64 is NAME_values: out[d] = sum over t < npos in order of
// weights[t]*values[t*KVDim+d]; lanes are the head's dimensions, in
// passes of at most 8 registers.
func attnValuesAMD64(a Attn) string {
	var s asmText
	fmt.Fprintf(&s.b, "// func %s_values(out, weights, values *float32, npos int)\n", a.Name())
	fmt.Fprintf(&s.b, "TEXT ·%s_values(SB), NOSPLIT, $0-32\n", a.Name())
	s.op("MOVQ out+0(FP), DI")
	s.op("MOVQ weights+8(FP), SI")
	s.op("MOVQ values+16(FP), DX")
	s.op("MOVQ npos+24(FP), CX")
	// Split the head into registers, widest first.
	var widths []int
	for rest := a.HeadDim; rest > 0; {
		w := a.ISA.Lanes()
		for w > rest {
			w /= 2
		}
		widths = append(widths, w)
		rest -= w
	}
	off := 0
	for pass := 0; len(widths) > 0; pass++ {
		n := min(len(widths), 8)
		ws := widths[:n]
		widths = widths[n:]
		for j, w := range ws {
			s.op("VXORPS %s, %s, %s", attnReg(w, j), attnReg(w, j), attnReg(w, j))
		}
		s.op("LEAQ %d(DX), R8", 4*off)
		s.op("XORQ AX, AX")
		s.label(fmt.Sprintf("pos%d", pass))
		top := 0
		for _, w := range ws {
			top = max(top, w)
		}
		s.op("VBROADCASTSS (SI)(AX*4), %s", attnReg(top, 15))
		o := 0
		for j, w := range ws {
			s.op("VMULPS %d(R8), %s, %s", 4*o, attnReg(w, 15), attnReg(w, 8+j))
			s.op("VADDPS %s, %s, %s", attnReg(w, 8+j), attnReg(w, j), attnReg(w, j))
			o += w
		}
		s.op("ADDQ $%d, R8", 4*a.KVDim)
		s.op("INCQ AX")
		s.op("CMPQ AX, CX")
		s.op("JLT pos%d", pass)
		for j, w := range ws {
			s.op("VMOVUPS %s, %d(DI)", attnReg(w, j), 4*off)
			off += w
		}
	}
	s.op("VZEROUPPER")
	s.op("RET")
	return s.b.String()
}

package goasm

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The exp kernels are the element-wise ops built on exp: the exp of a
// shifted row (softmax's numerators), SiLU and SiLU·mul. Their reference
// (runtime/kernels.Expf) is float64 math.Exp rounded to float32, which no
// vector exp reproduces bit for bit by itself. The kernels get the same
// bits anyway:
//
//   - each lane computes exp in float64 (range reduction by ln2 in two
//     parts, a degree-13 Taylor polynomial, scaling by 2^k), within 2 ulp
//     of math.Exp over every float32 input (measured over 639 million of
//     them; testkernels checks a sweep each run);
//   - a float64 that is more than 64 ulp away from a midpoint between two
//     float32 numbers rounds to the same float32 as anything within 2 ulp
//     of it, so such a lane's float32 result is math.Exp's;
//   - a lane near a midpoint (about 1 in 10^7), or whose argument is
//     outside [-87, 88] (float32 subnormal results, overflow) and not below
//     -104 (where the float32 result is +0), or NaN, makes the assembly
//     stop before its group; the Go wrapper computes that group with the
//     scalar reference and calls the assembly again for the rest.
//
// The float32 steps around exp (x - max, 1 + e, 1 / t, v * u, · up) are
// single rounding operations in both, so whole results are bit-identical.

// expConst is one constant of the exp kernels' tables.
type expConst struct {
	name string
	bits uint64
	f32  bool // a float32 (replicated over a 32-byte slot on every ISA)
}

// expConsts lists the table in order; the Taylor coefficients 1/i! are
// c0..c13.
var expConsts = func() []expConst {
	cs := []expConst{
		{"log2e", math.Float64bits(math.Log2E), false},
		{"ln2hi", math.Float64bits(6.93147180369123816490e-01), false},
		{"ln2lo", math.Float64bits(1.90821492927058770002e-10), false},
		{"bias", 1023, false},
		{"mask29", 1<<29 - 1, false},
		{"midlo", 1<<28 - expMidMargin, false},
		{"minus1", math.MaxUint64, false},
		{"window", 2*expMidMargin + 1, false},
		{"lo", math.Float64bits(expLo), false},
		{"zero", math.Float64bits(expZero), false},
		{"hi", math.Float64bits(expHi), false},
		{"sign32", 0x80000000, true},
		{"one32", uint64(math.Float32bits(1)), true},
	}
	f := 1.0
	for i := range 14 {
		if i > 0 {
			f *= float64(i)
		}
		cs = append(cs, expConst{fmt.Sprintf("c%d", i), math.Float64bits(1 / f), false})
	}
	return cs
}()

// The lanes the assembly leaves to the scalar reference: within
// expMidMargin float64 ulp of a float32 midpoint, or an argument outside
// [expLo, expHi] and not below expZero (whose float32 exp is +0).
const (
	expMidMargin = 64
	expLo        = -87.0
	expHi        = 88.0
	expZero      = -104.0
)

// expGroup is how many float32 elements one step of ISA i's exp assembly
// handles (one float64 vector's worth), or 0 when i has no exp assembly.
func expGroup(i ISA) int {
	switch i {
	case AVX512:
		return 8
	case AVX2, NEON:
		return 4
	}
	return 0
}

// expKernelNames are the kernels of one ISA, by the Go name of the op
// (suffixed _<isa> in the generated package).
var expKernelNames = []string{"expSub", "silu", "siluMul", "softmax"}

// ExpFiles returns the source files of package pkg holding the exp
// kernels for the given ISAs (duplicates emitted once): exp_gen.go, with
// for each ISA the Go functions expSub_<isa>, silu_<isa>, siluMul_<isa>,
// softmax_<isa> and the table expKernels; exp_amd64_gen.go and .s with
// the assembly bodies of the AVX-512 and AVX2 kernels; exp_arm64_gen.go
// and .s with the NEON ones; exp_other_gen.go, whose bodies do nothing
// (the wrappers then run the scalar reference for every group; so do
// SSE's, which has no float64 rounding instruction to build on). The kernels take their length at run
// time: softmax rows grow with the position.
func ExpFiles(pkg string, isas []ISA) ([]File, error) {
	if !ValidPackageName(pkg) {
		return nil, fmt.Errorf("goasm: %q is not a Go package name", pkg)
	}
	isas = slices.Clone(isas)
	slices.Sort(isas)
	isas = slices.Compact(isas)
	files := []File{}
	add := func(name, src string, gofmt bool) error {
		data := []byte(src)
		if gofmt {
			var err error
			if data, err = formatGo(name, src); err != nil {
				return err
			}
		}
		files = append(files, File{Name: name, Data: data})
		return nil
	}
	if err := add("exp_gen.go", expCommonGo(pkg, isas), true); err != nil {
		return nil, err
	}
	for _, arch := range []string{"amd64", "arm64", ""} {
		name := "exp_other_gen.go"
		if arch != "" {
			name = "exp_" + arch + "_gen.go"
		}
		if err := add(name, expArchGo(pkg, arch, isas), true); err != nil {
			return nil, err
		}
		asm := map[string]func([]ISA) string{"amd64": expAsmAMD64, "arm64": expAsmARM64}[arch]
		if asm == nil {
			continue
		}
		if s := asm(isas); s != "" {
			if err := add("exp_"+arch+"_gen.s", s, false); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// expCommonGo is exp_gen.go: the Go side of every ISA's kernels. Each
// calls the ISA's body (assembly over whole groups, stopping before a
// group it must not compute) and finishes the group where it stopped with
// the scalar reference.
func expCommonGo(pkg string, isas []ISA) string {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	b.WriteString("import \"github.com/omex-dev/omex/runtime/kernels\"\n\n")
	b.WriteString(`// expKernel is one ISA's set of exp kernels (codegen/goasm.ExpFiles);
// asm says whether its bodies are assembly on this GOARCH.
type expKernel struct {
	isa, goarch string
	group       int
	expSub      func(out, x []float32, m float32)
	silu        func(x []float32)
	siluMul     func(gate, up []float32)
	softmax     func(x []float32)
	// expSubBody is expSub's body alone: how many elements it computed.
	expSubBody func(out, x []float32, m float32) int
}

// expKernels lists the generated exp kernel sets in ISA order.
var expKernels = []expKernel{
`)
	for _, i := range isas {
		fmt.Fprintf(&b, "\t{%q, %q, %d, expSub_%s, silu_%s, siluMul_%s, softmax_%s, expSubBody_%s},\n", i, i.GOARCH(), max(expGroup(i), 1), i, i, i, i, i)
	}
	b.WriteString("}\n\n")
	for _, i := range isas {
		g := max(expGroup(i), 1)
		fmt.Fprintf(&b, `// expSub_%[1]s writes kernels.Expf(x[i]-m) to out[i] for every i.
func expSub_%[1]s(out, x []float32, m float32) {
	out = out[:len(x)]
	for i := 0; i < len(x); {
		i += expSubBody_%[1]s(out[i:], x[i:], m)
		for end := min(i+%[2]d, len(x)); i < end; i++ {
			out[i] = kernels.Expf(x[i] - m)
		}
	}
}

// silu_%[1]s is kernels.SiLU.
func silu_%[1]s(x []float32) {
	for i := 0; i < len(x); {
		i += siluBody_%[1]s(x[i:])
		end := min(i+%[2]d, len(x))
		kernels.SiLU(x[i:end])
		i = end
	}
}

// siluMul_%[1]s is kernels.SiLUMul.
func siluMul_%[1]s(gate, up []float32) {
	up = up[:len(gate)]
	for i := 0; i < len(gate); {
		i += siluMulBody_%[1]s(gate[i:], up[i:])
		end := min(i+%[2]d, len(gate))
		kernels.SiLUMul(gate[i:end], up[i:end])
		i = end
	}
}

// softmax_%[1]s is kernels.Softmax: the maximum and the sum stay scalar
// (the sum is in order), the exps and the divisions run in vectors.
func softmax_%[1]s(x []float32) {
	maxv := x[0]
	for _, v := range x[1:] {
		if v > maxv {
			maxv = v
		}
	}
	expSub_%[1]s(x, x, maxv)
	var sum float32
	for _, e := range x {
		sum += e
	}
	for i := divBody_%[1]s(x, sum); i < len(x); i++ {
		x[i] /= sum
	}
}

`, i, g)
	}
	return b.String()
}

// expArchGo is exp_<arch>_gen.go (arch "" for every other GOARCH): the
// bodies of every ISA's kernels, assembly where the ISA is for arch.
func expArchGo(pkg, arch string, isas []ISA) string {
	var b strings.Builder
	b.WriteString(archGoHeader(pkg, arch))
	for _, i := range isas {
		g := expGroup(i)
		if g == 0 || i.GOARCH() != arch {
			fmt.Fprintf(&b, "// The %[1]s kernels have no assembly on this GOARCH: their bodies do\n// nothing and the wrappers run the scalar reference.\n", i)
			fmt.Fprintf(&b, "func expSubBody_%s(out, x []float32, m float32) int { return 0 }\n", i)
			fmt.Fprintf(&b, "func siluBody_%s(x []float32) int { return 0 }\n", i)
			fmt.Fprintf(&b, "func siluMulBody_%s(gate, up []float32) int { return 0 }\n", i)
			fmt.Fprintf(&b, "func divBody_%s(x []float32, d float32) int { return 0 }\n\n", i)
			continue
		}
		fmt.Fprintf(&b, `//go:noescape
func expsub_%[1]s_asm(out, x *float32, n int, m float32) int

//go:noescape
func silu_%[1]s_asm(x *float32, n int) int

//go:noescape
func silumul_%[1]s_asm(gate, up *float32, n int) int

//go:noescape
func div_%[1]s_asm(x *float32, n int, d float32)

// expSubBody_%[1]s computes whole groups of %[2]d from the start of x and
// returns how many elements it wrote: all whole groups, or those before
// the first group with a lane it must leave to the scalar reference.
func expSubBody_%[1]s(out, x []float32, m float32) int {
	n := len(x) &^ %[3]d
	if n == 0 {
		return 0
	}
	_ = out[n-1]
	return expsub_%[1]s_asm(&out[0], &x[0], n, m)
}

// siluBody_%[1]s is expSubBody_%[1]s for SiLU in place.
func siluBody_%[1]s(x []float32) int {
	n := len(x) &^ %[3]d
	if n == 0 {
		return 0
	}
	return silu_%[1]s_asm(&x[0], n)
}

// siluMulBody_%[1]s is expSubBody_%[1]s for SiLU·mul into gate.
func siluMulBody_%[1]s(gate, up []float32) int {
	n := len(gate) &^ %[3]d
	if n == 0 {
		return 0
	}
	_ = up[n-1]
	return silumul_%[1]s_asm(&gate[0], &up[0], n)
}

// divBody_%[1]s divides the whole groups of x by d and returns how many
// elements that was.
func divBody_%[1]s(x []float32, d float32) int {
	n := len(x) &^ %[3]d
	if n > 0 {
		div_%[1]s_asm(&x[0], n, d)
	}
	return n
}

`, i, g, g-1)
	}
	return b.String()
}

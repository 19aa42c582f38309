package llvm

import (
	"regexp"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

func TestEmitPerTarget(t *testing.T) {
	want := map[string][]string{
		"amd64-avx512": {`target triple = "x86_64-unknown-linux-gnu"`, "<16 x float>", `"target-features"="+avx512f,+avx512bw,+avx512vl,+avx2,+avx,+f16c"`, `"min-legal-vector-width"="512"`, "fpext <16 x half>"},
		"amd64-avx2":   {`target triple = "x86_64-unknown-linux-gnu"`, "<8 x float>", `"target-features"="+avx2,+avx,+f16c"`, "fpext <8 x half>"},
		"amd64-sse":    {`target triple = "x86_64-unknown-linux-gnu"`, "<4 x float>", `"target-features"="+sse2"`},
		"arm64-neon":   {`target triple = "aarch64-unknown-linux-gnu"`, "<4 x float>", `"target-features"="+neon,+fp-armv8"`, "fpext <4 x half>"},
	}
	// No fast-math flag on any instruction, no fused multiply-add.
	forbidden := regexp.MustCompile(`\b(fast|contract|reassoc|nnan|ninf|nsz|arcp|afn)\b|fmuladd|llvm\.fma|"unsafe-fp-math"="true"`)
	for _, tg := range simdTargets(t) {
		text, err := Emit(tg, testKernels(tg.Kernels))
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		for _, w := range want[tg.Name] {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the module lacks %s", tg.Name, w)
			}
		}
		body := text[strings.Index(text, "target triple"):] // the header comment names -fp-contract=off
		if m := forbidden.FindString(body); m != "" {
			t.Errorf("%s: the module contains %q", tg.Name, m)
		}
		if tg.Kernels == targets.KernelsSSE && strings.Contains(text, "half") {
			t.Errorf("sse: half values in the module; SSE2 converts halves with integer operations")
		}
		for _, k := range testKernels(tg.Kernels) {
			if !strings.Contains(text, "define void @"+SymbolPrefix+k.Name()+"(") {
				t.Errorf("%s: no function for %s", tg.Name, k.Name())
			}
		}
	}
}

func TestEmitDeterministic(t *testing.T) {
	tg := simdTargets(t)[1] // avx2
	ks := testKernels(tg.Kernels)
	a, err := Emit(tg, ks)
	if err != nil {
		t.Fatal(err)
	}
	// Reversed, with duplicates: the same module.
	var rev []Kernel
	for i := len(ks) - 1; i >= 0; i-- {
		rev = append(rev, ks[i], ks[i])
	}
	b, err := Emit(tg, rev)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("the same kernels in another order give another module")
	}
}

func TestEmitErrors(t *testing.T) {
	avx2 := simdTargets(t)[1]
	generic, err := targets.Lookup("generic")
	if err != nil {
		t.Fatal(err)
	}
	darwin := avx2
	darwin.GOOS = "darwin"
	wrongArch := avx2
	wrongArch.GOARCH = "arm64"
	cases := []struct {
		name string
		t    targets.Target
		ks   []Kernel
		code string
	}{
		{"generic target", generic, nil, "input.llvm_target"},
		{"Mach-O target", darwin, nil, "input.llvm_target"},
		{"set on the wrong GOARCH", wrongArch, nil, "input.llvm_target"},
		{"kernel of another set", avx2, []Kernel{MatVec{"sse", tensor.F32, 4, 4}}, "input.kernel_set"},
		{"empty matrix", avx2, []Kernel{MatVec{"avx2", tensor.F32, 0, 4}}, "input.kernel_shape"},
		{"q8_0 with partial blocks", avx2, []Kernel{MatVec{"avx2", tensor.Q8_0, 8, 40}}, "input.kernel_shape"},
		{"unknown dtype", avx2, []Kernel{MatVec{"avx2", tensor.DType(9), 8, 32}}, "input.kernel_dtype"},
		{"absurd size", avx2, []Kernel{MatVec{"avx2", tensor.F32, 1<<31 - 1, 1<<31 - 1}}, "input.kernel_shape"},
		{"dimension over 31 bits", avx2, []Kernel{MatVec{"avx2", tensor.F32, 1 << 31, 1}}, "input.kernel_shape"},
		{"unknown op", avx2, []Kernel{Elementwise{"softmax", "avx2", 8}}, "input.kernel_op"},
		{"empty vector", avx2, []Kernel{Elementwise{OpAdd, "avx2", 0}}, "input.kernel_shape"},
		{"rmsnorm too long for an exact float32 length", avx2, []Kernel{Elementwise{OpRMSNorm, "avx2", 1 << 24}}, "input.kernel_shape"},
	}
	for _, c := range cases {
		_, err := Emit(c.t, c.ks)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input || e.Code != c.code {
			t.Errorf("%s: error %v, want InputError %s", c.name, err, c.code)
		}
	}
}

func TestKernelNames(t *testing.T) {
	// goasm's naming, so the LLVM package is a drop-in replacement.
	if n := (MatVec{"avx2", tensor.Q8_0, 288, 768}).Name(); n != "matvec_avx2_q8_0_288x768" {
		t.Errorf("matvec name %q", n)
	}
	if n := (Elementwise{OpRMSNorm, "neon", 288}).Name(); n != "rmsnorm_neon_288" {
		t.Errorf("rmsnorm name %q", n)
	}
	k := MatVec{"avx2", tensor.Q4_0, 33, 64}
	if k.Lanes() != 8 || k.Groups() != 5 || k.GroupBytes() != 64*8/2 || k.GroupScales() != 2*8 || k.WeightBytes() != 5*256 || k.ScaleCount() != 80 {
		t.Errorf("layout sizes of %s: lanes %d groups %d bytes %d scales %d", k.Name(), k.Lanes(), k.Groups(), k.GroupBytes(), k.GroupScales())
	}
	if g := (MatVec{"riscv", tensor.F32, 8, 8}).Groups(); g != 0 {
		t.Errorf("unknown kernel set: %d groups", g)
	}
}

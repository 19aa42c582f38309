package llvm

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// fakeObject stands for Compile's result, so the Go side is tested without
// llc.
func fakeObject(ks []Kernel, stack int) *Object {
	obj := &Object{Data: []byte("\x7fELF"), StackBytes: stack}
	for _, k := range ks {
		obj.Symbols = append(obj.Symbols, SymbolPrefix+k.Name())
	}
	return obj
}

func TestGoFiles(t *testing.T) {
	for _, tg := range simdTargets(t) {
		ks := testKernels(tg.Kernels)
		files, err := GoFiles("model", tg, ks, fakeObject(ks, 100))
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		arch := tg.GOARCH
		wantNames := []string{"kernels_llvm_gen.go", "kernels_llvm_" + arch + "_gen.go", "kernels_llvm_other_gen.go", "kernels_llvm_" + arch + "_gen.s", "kernels_llvm_" + arch + ".syso"}
		if len(files) != len(wantNames) {
			t.Fatalf("%s: %d files, want %d", tg.Name, len(files), len(wantNames))
		}
		for i, f := range files {
			if f.Name != wantNames[i] {
				t.Errorf("%s: file %d is %s, want %s", tg.Name, i, f.Name, wantNames[i])
			}
			src := string(f.Data)
			switch {
			case strings.HasSuffix(f.Name, ".go"):
				if _, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, 0); err != nil {
					t.Errorf("%s: %s does not parse: %v", tg.Name, f.Name, err)
				}
				if strings.Contains(f.Name, "_"+arch+"_") && !strings.HasPrefix(src, "//go:build "+arch+"\n") {
					t.Errorf("%s: %s lacks its build constraint", tg.Name, f.Name)
				}
				if strings.Contains(f.Name, "other") && !strings.HasPrefix(src, "//go:build !"+arch+"\n") {
					t.Errorf("%s: %s lacks its build constraint", tg.Name, f.Name)
				}
			case strings.HasSuffix(f.Name, ".s"):
				for _, k := range ks {
					if !strings.Contains(src, "TEXT ·"+k.Name()+"_asm(SB)") || !strings.Contains(src, SymbolPrefix+k.Name()+"(SB)") {
						t.Errorf("%s: no trampoline for %s", tg.Name, k.Name())
					}
				}
			}
		}
	}
	if _, err := GoFiles("not a name", simdTargets(t)[1], nil, &Object{}); err == nil {
		t.Error("a bad package name was accepted")
	}
	ks := testKernels("avx2")
	if _, err := GoFiles("model", simdTargets(t)[1], ks, fakeObject(ks[1:], 0)); err == nil {
		t.Error("an object lacking a kernel was accepted")
	}
}

// TestTrampolines checks the calling-convention details: System V's
// seventh integer argument (the constant table of a matvec) on the stack,
// a float argument in X0/F0, a 16-byte-aligned frame sized from the
// kernels' stack use.
func TestTrampolines(t *testing.T) {
	mv := MatVec{"avx2", 0, 64, 64}
	amd := trampolineAMD64(mv, 100)
	for _, want := range []string{
		"TEXT ·matvec_avx2_f32_64x64_asm(SB), 0, $176-48",
		"MOVQ out+0(FP), DI", "MOVQ g1+40(FP), R9",
		"MOVQ $omex_llvm_consts_avx2(SB), AX", "SUBQ $16, R13", "MOVQ AX, 0(SP)",
		"ANDQ $~15, R13", "CALL omex_llvm_matvec_avx2_f32_64x64(SB)", "MOVQ R12, SP",
	} {
		if !strings.Contains(amd, want) {
			t.Errorf("amd64 matvec trampoline lacks %q:\n%s", want, amd)
		}
	}
	norm := trampolineAMD64(Elementwise{OpRMSNorm, "avx2", 8}, 0)
	for _, want := range []string{"$48-28\n", "MOVSS eps+24(FP), X0", "MOVQ $omex_llvm_consts_avx2(SB), CX"} {
		if !strings.Contains(norm, want) {
			t.Errorf("amd64 rmsnorm trampoline lacks %q:\n%s", want, norm)
		}
	}
	if strings.Contains(norm, "0(SP)") {
		t.Errorf("rmsnorm passes nothing on the stack:\n%s", norm)
	}
	arm := trampolineARM64(Elementwise{OpRMSNorm, "neon", 8}, 100)
	for _, want := range []string{"$160-28", "MOVD out+0(FP), R0", "FMOVS eps+24(FP), F0", "MOVD $omex_llvm_consts_neon(SB), R3", "ADD $160, RSP, R20", "BL omex_llvm_rmsnorm_neon_8(SB)", "MOVD R19, RSP"} {
		if !strings.Contains(arm, want) {
			t.Errorf("arm64 trampoline lacks %q:\n%s", want, arm)
		}
	}
	for _, stack := range []int{0, 1, 100, 4096} {
		if f := trampolineFrame(stack, 16); f%16 != 0 || f < stack+16+16 {
			t.Errorf("frame %d for stack %d", f, stack)
		}
	}
}

// TestGeneratedVet runs go vet (its asmdecl check compares every
// trampoline's argument offsets and sizes with its Go declaration) on the
// generated packages for amd64 and arm64.
func TestGeneratedVet(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs go vet on generated packages")
	}
	h := buildHarness(t)
	for _, arch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "vet", "./llvmtest/gen/...")
		cmd.Dir = h.dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-mod=readonly", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go vet (GOARCH=%s) of the generated packages: %v\n%s", arch, err, out)
		}
	}
}

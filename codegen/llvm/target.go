package llvm

import (
	"fmt"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
)

// machine is what the emitter needs to know about a target: the LLVM
// triple and CPU features, the vector width, and the kernel set (which
// fixes the weight layout: rows per interleaved group).
type machine struct {
	target   targets.Target
	goarch   string
	triple   string
	features string // LLVM -mattr / "target-features" spelling
	lanes    int    // float32 lanes of a vector = rows per group
	// nativeHalf: the target converts half to float in hardware (F16C,
	// NEON), so fpext of a half vector is one instruction; without it
	// LLVM would call a runtime helper, so the emitter converts with
	// integer operations instead.
	nativeHalf bool
	unroll     int // row groups in flight in a matvec (independent chains)
}

// machineFor describes target t, or says why the LLVM backend cannot
// build for it. The kernels are compiled to an ELF object linked by the
// Go linker, so the operating system must use ELF; the generic target
// has no SIMD kernel set (it is pure Go by definition).
func machineFor(t targets.Target) (machine, error) {
	if !elfOS(t.GOOS) {
		return machine{}, omexerr.Inputf("input.llvm_target", "--backend=llvm builds ELF objects; target %s is for %s, which uses another object format (use --backend=goasm)", t.Name, t.GOOS)
	}
	m := machine{target: t, lanes: goasm.ISA(t.Kernels).Lanes()}
	switch t.Kernels {
	case targets.KernelsAVX512:
		// FMA is not listed on purpose; the kernels never fuse anyway
		// (no contract flags, llc -fp-contract=off), but it keeps the
		// intent plain. LLVM implies it for AVX-512F regardless.
		m.goarch, m.triple, m.features, m.nativeHalf, m.unroll = "amd64", "x86_64-unknown-linux-gnu", "+avx512f,+avx512bw,+avx512vl,+avx2,+avx,+f16c", true, 8
	case targets.KernelsAVX2:
		m.goarch, m.triple, m.features, m.nativeHalf, m.unroll = "amd64", "x86_64-unknown-linux-gnu", "+avx2,+avx,+f16c", true, 4
	case targets.KernelsSSE:
		m.goarch, m.triple, m.features, m.nativeHalf, m.unroll = "amd64", "x86_64-unknown-linux-gnu", "+sse2", false, 4
	case targets.KernelsNEON:
		m.goarch, m.triple, m.features, m.nativeHalf, m.unroll = "arm64", "aarch64-unknown-linux-gnu", "+neon,+fp-armv8", true, 8
	default:
		return machine{}, omexerr.Inputf("input.llvm_target", "--backend=llvm needs a SIMD target (amd64-avx512, amd64-avx2, amd64-sse, arm64-neon); %s is pure Go", t.Name)
	}
	if t.GOARCH != m.goarch {
		return machine{}, omexerr.Inputf("input.llvm_target", "target %s: kernel set %s is for %s, not %s", t.Name, t.Kernels, m.goarch, t.GOARCH)
	}
	return m, nil
}

// elfOS reports whether executables for goos are ELF files.
func elfOS(goos string) bool {
	switch goos {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly", "android", "illumos", "solaris":
		return true
	}
	return false
}

// attributes are the function attributes of every kernel. They keep
// float arithmetic strict (no fast-math, signed zeros, NaNs and
// infinities honoured, IEEE denormals) so each fmul and fadd rounds as the
// reference does; nounwind + no uwtable so no unwind tables are emitted;
// noredzone because a goroutine stack promises nothing below SP to a
// foreign function (the trampoline gives the kernel its own frame anyway);
// and no frame pointer, which leaves Go's frame-pointer chain untouched.
func (m machine) attributes() []string {
	a := []string{
		"nounwind", "noredzone", "nofree", "nosync", "willreturn",
		`"frame-pointer"="none"`,
		`"no-trapping-math"="false"`,
		`"unsafe-fp-math"="false"`, `"no-signed-zeros-fp-math"="false"`,
		`"no-nans-fp-math"="false"`, `"no-infs-fp-math"="false"`,
		`"approx-func-fp-math"="false"`,
		`"denormal-fp-math"="ieee,ieee"`,
		fmt.Sprintf(`"target-features"=%q`, m.features),
	}
	if m.target.Kernels == targets.KernelsAVX512 {
		// Without this LLVM may split 512-bit vectors in two 256-bit
		// halves (its default preference on some CPUs).
		a = append(a, `"min-legal-vector-width"="512"`, `"prefer-vector-width"="512"`)
	}
	return a
}

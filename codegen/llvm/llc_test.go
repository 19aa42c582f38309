package llvm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// TestCompile runs llc -O2 -filetype=obj on every target's module; Compile
// checks the object (no relocations, no calls, symbols, stack sizes).
func TestCompile(t *testing.T) {
	l := requireLLC(t)
	for _, tg := range simdTargets(t) {
		ks := testKernels(tg.Kernels)
		obj, err := l.Compile(context.Background(), tg, ks)
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		for _, k := range ks {
			if !slices.Contains(obj.Symbols, SymbolPrefix+k.Name()) {
				t.Errorf("%s: no symbol for %s", tg.Name, k.Name())
			}
		}
		t.Logf("%s (LLVM %s): %d kernels, object %d bytes, largest kernel stack frame %d bytes", tg.Name, l.Version, len(ks), len(obj.Data), obj.StackBytes)

		// The .ll a user gets from --emit=llvm passes llc as its header
		// says to run it.
		text, err := Emit(tg, ks)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"-O2", "-filetype=obj", "-fp-contract=off", "-o", os.DevNull, "-"}
		if l.Major < 15 {
			args = append([]string{"-opaque-pointers"}, args...)
		}
		cmd := exec.Command(l.Path, args...)
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: llc %s on the emitted .ll: %v\n%s", tg.Name, strings.Join(args, " "), err, out)
		}
	}
}

// TestCompileReproducible: the same kernels give the same object bytes.
func TestCompileReproducible(t *testing.T) {
	l := requireLLC(t)
	tg := simdTargets(t)[3] // neon
	ks := testKernels(tg.Kernels)[:12]
	a, err := l.Compile(context.Background(), tg, ks)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Compile(context.Background(), tg, ks)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, b.Data) {
		t.Error("two compilations of the same kernels differ")
	}
}

// compileRaw runs llc on hand-written IR for the avx2 target.
func compileRaw(t *testing.T, l *LLC, ir string) []byte {
	t.Helper()
	m, err := machineFor(simdTargets(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(l.Path, l.args(m)...)
	cmd.Stdin = strings.NewReader(ir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("llc: %v", err)
	}
	return out
}

// TestInspectRejects: an object with a constant pool (a relocation the Go
// linker would silently leave unapplied) or a call is refused.
func TestInspectRejects(t *testing.T) {
	l := requireLLC(t)
	m, err := machineFor(simdTargets(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	table := "@omex_llvm_consts_avx2 = constant [4 x i8] zeroinitializer\n"
	pool := table + `define void @f(ptr %p) {
  %v = load <4 x float>, ptr %p
  %w = fmul <4 x float> %v, <float 3.0, float 1.5, float 2.5, float 7.0>
  store <4 x float> %w, ptr %p
  ret void
}
`
	call := table + `declare float @expf(float)
define float @f(float %x) {
  %y = call float @expf(float %x)
  ret float %y
}
`
	for _, c := range []struct{ name, ir, want string }{
		{"constant pool", pool, "relocations"},
		{"call", call, "undefined symbol expf"},
	} {
		_, err := inspectObject(compileRaw(t, l, c.ir), m, nil)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Execution || !strings.Contains(e.Msg, c.want) {
			t.Errorf("%s: error %v, want an ExecutionError about %q", c.name, err, c.want)
		}
	}
	if _, err := inspectObject([]byte("not an object"), m, nil); err == nil {
		t.Error("garbage accepted as an object")
	}
}

func TestFindLLCMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindLLC()
	e, ok := omexerr.As(err)
	if !ok || e.Category != omexerr.Resource || !strings.Contains(e.Msg, "apt-get install llvm") || !strings.Contains(e.Msg, "--backend=llvm") {
		t.Errorf("FindLLC without llc: %v; want a ResourceError saying what to install", err)
	}
}

func TestLLCArgs(t *testing.T) {
	m, err := machineFor(simdTargets(t)[3]) // neon
	if err != nil {
		t.Fatal(err)
	}
	a14 := strings.Join((&LLC{Major: 14}).args(m), " ")
	a17 := strings.Join((&LLC{Major: 17}).args(m), " ")
	for _, want := range []string{"-mtriple=aarch64-unknown-linux-gnu", "-mattr=+neon,+fp-armv8", "-fp-contract=off", "-stack-size-section", "-O2"} {
		if !strings.Contains(a14, want) || !strings.Contains(a17, want) {
			t.Errorf("llc args lack %s: %q / %q", want, a14, a17)
		}
	}
	if !strings.Contains(a14, "-opaque-pointers") || strings.Contains(a17, "-opaque-pointers") {
		t.Errorf("-opaque-pointers must be passed to LLVM 14 only: %q / %q", a14, a17)
	}
}

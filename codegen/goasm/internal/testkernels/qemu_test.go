package testkernels

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNEONUnderQEMU cross-compiles this package's tests for arm64 and runs
// the matvec, exp and attention kernel tests under qemu-aarch64 (Debian qemu-user-static), so the
// NEON assembly is executed and checked on every amd64 run. It skips when
// qemu or the go command is not available.
func TestNEONUnderQEMU(t *testing.T) {
	if runtime.GOARCH == "arm64" {
		t.Skip("native arm64: the kernel tests already run the NEON assembly")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if qemu, err = exec.LookPath("qemu-aarch64"); err != nil {
			t.Skip("qemu-aarch64 not installed (Debian qemu-user-static)")
		}
	}
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "testkernels.arm64")
	build := exec.Command(gocmd, "test", "-c", "-o", bin, ".")
	build.Env = append(build.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for arm64: %v\n%s", err, out)
	}
	run := exec.Command(qemu, bin, "-test.run", "^(TestMatVec|TestMatMul|TestExp|TestAttention)", "-test.v")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("arm64 kernel tests under %s: %v\n%s", filepath.Base(qemu), err, out)
	}
	// The run must have executed NEON assembly, not only fallbacks.
	i := strings.Index(string(out), "assembly kernels run per ISA on arm64: map[neon:")
	if i < 0 {
		t.Fatalf("the arm64 run executed no NEON kernel:\n%s", out)
	}
	line, _, _ := strings.Cut(string(out[i:]), "\n")
	t.Logf("under %s: %s", filepath.Base(qemu), line)
	for _, want := range []string{"exp kernel sets run as assembly on arm64: 1", "attention kernels run as assembly on arm64: "} {
		if !strings.Contains(string(out), want) || strings.Contains(string(out), "attention kernels run as assembly on arm64: 0") {
			t.Errorf("the arm64 run did not execute the NEON exp and attention kernels (want %q):\n%s", want, out)
		}
	}
}

package testmodels

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm/internal/modelset"
	"github.com/omex-dev/omex/internal/testfiles"
)

// TestARM64ModelsUnderQEMU cross-compiles the tests of every arm64 model
// package and runs them under qemu-aarch64 (Debian qemu-user-static):
// the generated NEON schedule must match the interpreter (run under qemu
// too) bit for bit, stories260K run.c's golden ids. It skips without qemu.
func TestARM64ModelsUnderQEMU(t *testing.T) {
	if runtime.GOARCH == "arm64" || testing.Short() {
		t.Skip("native arm64 runs these packages' tests directly; -short skips the emulated run")
	}
	testfiles.Shared(t)
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if qemu, err = exec.LookPath("qemu-aarch64"); err != nil {
			t.Skip("qemu-aarch64 not installed (Debian qemu-user-static)")
		}
	}
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	ran := 0
	for _, m := range modelset.Models {
		if !strings.HasPrefix(m.Target, "arm64-") {
			continue
		}
		ran++
		bin := filepath.Join(t.TempDir(), m.Package+".test")
		build := exec.Command(gocmd, "test", "-c", "-o", bin, "./"+m.Package)
		build.Env = append(build.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go test -c %s for arm64: %v\n%s", m.Package, err, out)
		}
		run := exec.Command(qemu, bin, "-test.run", "^TestGeneratedModel$", "-test.v")
		run.Dir = m.Package // the test finds the repository (and the shared data) from here
		out, err := run.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "bit-identical") {
			t.Fatalf("%s under qemu: %v\n%s", m.Package, err, out)
		}
		i := strings.Index(string(out), m.Package+" on ")
		line, _, _ := strings.Cut(string(out[i:]), "\n")
		t.Logf("under %s: %s", filepath.Base(qemu), line)
	}
	if ran == 0 {
		t.Fatal("no arm64 model in the set")
	}
}

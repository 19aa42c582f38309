package llvm

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
)

// LLC is an LLVM static compiler (llc) found on this machine.
type LLC struct {
	Path    string // the executable
	Version string // e.g. "14.0.6"
	Major   int
}

// MinLLVM is the oldest LLVM whose llc reads the emitted IR (opaque
// pointers behind -opaque-pointers arrived in LLVM 14).
const MinLLVM = 14

// llcNames are the executables FindLLC tries, in order: the unversioned
// name, then Debian's versioned ones, newest first.
func llcNames() []string {
	names := []string{"llc"}
	for v := 21; v >= MinLLVM; v-- {
		names = append(names, fmt.Sprintf("llc-%d", v))
	}
	return names
}

var versionRE = regexp.MustCompile(`LLVM version (\d+)\.(\d+)(\.\d+)?`)

// FindLLC looks for llc (LLVM 14 or newer) on the PATH. When there is
// none it returns a ResourceError that says plainly what --backend=llvm
// needs and how to get it.
func FindLLC() (*LLC, error) {
	var tried []string
	for _, name := range llcNames() {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		l, err := probeLLC(path)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		return l, nil
	}
	msg := "--backend=llvm needs LLVM's static compiler llc (LLVM 14 or newer) on the PATH, and found none"
	if len(tried) > 0 {
		msg += " usable (" + strings.Join(tried, "; ") + ")"
	}
	return nil, omexerr.Resourcef("resource.llc_missing", "%s; install it (Debian/Ubuntu: apt-get install llvm) or use --backend=goasm", msg)
}

// probeLLC runs `path --version` and checks the LLVM version.
func probeLLC(path string) (*LLC, error) {
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %v", path, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s: no LLVM version in its --version output", path)
	}
	major, _ := strconv.Atoi(string(m[1]))
	if major < MinLLVM {
		return nil, fmt.Errorf("%s is LLVM %d, older than %d", path, major, MinLLVM)
	}
	return &LLC{Path: path, Version: strings.TrimPrefix(string(m[0]), "LLVM version "), Major: major}, nil
}

// Args are the llc arguments Compile uses for target t: optimised
// codegen for the target's triple and features with the default (generic)
// CPU, so the object does not depend on the build machine; floating-point
// contraction off (no fused multiply-adds, whatever the IR says); a stack
// size section, read back to size the trampolines' frames; the module on
// stdin and the object on stdout.
func (l *LLC) Args(t targets.Target) ([]string, error) {
	m, err := machineFor(t)
	if err != nil {
		return nil, err
	}
	return l.args(m), nil
}

func (l *LLC) args(m machine) []string {
	a := []string{"-O2", "-filetype=obj", "-mtriple=" + m.triple, "-mattr=" + m.features,
		"-fp-contract=off", "-stack-size-section", "-o", "-", "-"}
	if l.Major < 15 {
		a = append([]string{"-opaque-pointers"}, a...)
	}
	return a
}

// Compile emits kernels ks for target t and compiles them with llc into
// an ELF object, which it then checks (Object's doc says what). A failing
// llc or an object the Go linker could not use is an ExecutionError: both
// are bugs of this generator, not of the user's input.
func (l *LLC) Compile(ctx context.Context, t targets.Target, ks []Kernel) (*Object, error) {
	m, err := machineFor(t)
	if err != nil {
		return nil, err
	}
	ks, err = prepare(m, ks)
	if err != nil {
		return nil, err
	}
	ll := emitModule(m, ks)
	cmd := exec.CommandContext(ctx, l.Path, l.args(m)...)
	cmd.Stdin = strings.NewReader(ll)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, omexerr.Executionf("codegen.llc_failed", "llc (%s, LLVM %s) failed on the kernels for %s: %v: %s", l.Path, l.Version, t.Name, err, strings.TrimSpace(stderr.String()))
	}
	return inspectObject(stdout.Bytes(), m, ks)
}

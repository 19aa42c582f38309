// Package targets describes the hardware omexc builds executables for: each
// target names a GOOS/GOARCH, the CPU features its kernels use, their vector
// width and kernel set, and the Go microarchitecture level to build with. It
// also detects the best target the running CPU supports.
package targets

import "fmt"

// The kernel sets. Code generation picks its kernels by Target.Kernels.
const (
	KernelsAVX512  = "avx512"
	KernelsAVX2    = "avx2"
	KernelsSSE     = "sse"
	KernelsNEON    = "neon"
	KernelsGeneric = "generic"
)

// Target is one kind of machine omexc can build an executable for.
type Target struct {
	Name   string `json:"name"`   // e.g. "amd64-avx2"; what --target takes
	GOOS   string `json:"goos"`   // operating system of the executable
	GOARCH string `json:"goarch"` // Go architecture of the executable
	// Features are the CPU features the target's kernels use, spelled as
	// github.com/klauspost/cpuid/v2 names them ("AVX2", "FMA3", "ASIMD").
	Features    []string `json:"features"`
	VectorBits  int      `json:"vector_bits"` // SIMD register width the kernels use; 0 for pure Go
	Kernels     string   `json:"kernels"`     // kernel set: one of the Kernels* constants
	Description string   `json:"description"`
	// LevelVar and Level are the Go environment variable that fixes the
	// instruction set the Go compiler itself may use, and its value (e.g.
	// GOAMD64=v3). They are always set, to the Go default where the target
	// needs nothing more, so a build never inherits them from the user's
	// environment (builds must be reproducible).
	LevelVar string `json:"level_var,omitempty"`
	Level    string `json:"level,omitempty"`
}

// String names the target and its platform, e.g. "amd64-avx2 (linux/amd64)".
func (t Target) String() string {
	return fmt.Sprintf("%s (%s/%s)", t.Name, t.GOOS, t.GOARCH)
}

// BuildEnv is the environment, in os/exec form, that makes `go build`
// produce an executable for the target: GOOS, GOARCH and the level variable.
func (t Target) BuildEnv() []string {
	env := []string{"GOOS=" + t.GOOS, "GOARCH=" + t.GOARCH}
	if t.LevelVar != "" {
		env = append(env, t.LevelVar+"="+t.Level)
	}
	return env
}

// Supported reports whether an executable for t runs natively on this
// machine: same GOOS and GOARCH, and every feature (and Go level) it needs is
// present. Tests use it to run produced executables directly, or under an
// emulator such as qemu when it is false.
func (t Target) Supported() bool { return hostCPU().runs(t) }

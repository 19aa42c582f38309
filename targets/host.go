package targets

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// cpu is what choosing and checking targets needs to know about a machine.
// Host detection fills it from cpuid; tests fill it by hand.
type cpu struct {
	goos, goarch string
	features     map[string]bool // cpuid feature names present (and enabled by the OS)
	x64Level     int             // GOAMD64 level the CPU runs (1-4); 0 off amd64
}

// hostCPU describes the running machine. cpuid reads CPUID/XGETBV on x86
// (so AVX and AVX-512 count only when the OS saves their registers) and
// HWCAP or sysctl on arm64.
var hostCPU = sync.OnceValue(func() cpu {
	c := cpu{goos: runtime.GOOS, goarch: runtime.GOARCH, features: map[string]bool{}}
	for _, f := range cpuid.CPU.FeatureSet() {
		c.features[f] = true
	}
	if c.goarch == "arm64" {
		// Go's arm64 port requires ARMv8.0-A, where FP and AdvSIMD are
		// mandatory, so a running arm64 Go process proves them; cpuid
		// cannot read them on Windows and the BSDs.
		c.features["FP"], c.features["ASIMD"] = true, true
	}
	if c.goarch == "amd64" {
		// This process runs, so the CPU runs at least v1 even when
		// detection is incomplete (some emulators hide SYSCALL from CPUID).
		c.x64Level = max(cpuid.CPU.X64Level(), 1)
	}
	return c
})

// HostCPU names the running processor as the CPU reports it, e.g.
// "AMD EPYC 7B13 64-Core Processor"; "" when it does not say.
func HostCPU() string { return strings.TrimSpace(cpuid.CPU.BrandName) }

// Host returns the best target the running machine supports: the first
// named target for its GOARCH whose features it has, else generic for its
// GOOS/GOARCH. This is what omexc builds for when --target is not given.
func Host() Target { return hostCPU().best() }

// best returns the first target in the table c runs, else generic.
func (c cpu) best() Target {
	for _, t := range table() {
		if t.Kernels != KernelsGeneric && c.runs(t) {
			return t
		}
	}
	return genericTarget(c.goos, c.goarch)
}

// runs reports whether an executable for t runs natively on c.
func (c cpu) runs(t Target) bool {
	if t.GOOS != c.goos || t.GOARCH != c.goarch {
		return false
	}
	for _, f := range t.Features {
		if !c.features[f] {
			return false
		}
	}
	// The Go runtime refuses to start below the GOAMD64 level it was built
	// for, so the level binds as much as the kernels' features do. The
	// other level variables the table uses are their architecture's
	// baseline, which every CPU Go runs on meets.
	if t.LevelVar == "GOAMD64" {
		return amd64Level(t.Level) <= c.x64Level
	}
	return true
}

// amd64Level turns a GOAMD64 value ("v3") into its number, or 99 (runs
// nowhere) for anything else.
func amd64Level(v string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
	if err != nil || !strings.HasPrefix(v, "v") || n < 1 || n > 4 {
		return 99
	}
	return n
}

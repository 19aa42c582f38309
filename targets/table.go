package targets

import (
	"runtime"
	"slices"
	"strings"

	"github.com/omex-dev/omex/internal/editdist"
	"github.com/omex-dev/omex/omexerr"
)

// table is the list of named targets, best first within each GOARCH: host
// detection takes the first one the CPU runs. generic comes last.
func table() []Target {
	amd64OS := defaultGOOS("amd64")
	arm64OS := defaultGOOS("arm64")
	generic := genericTarget(runtime.GOOS, runtime.GOARCH)
	return []Target{
		{
			Name: "amd64-avx512", GOOS: amd64OS, GOARCH: "amd64",
			Features:   []string{"AVX512F", "AVX512BW", "AVX512VL", "AVX2", "FMA3", "F16C"},
			VectorBits: 512, Kernels: KernelsAVX512,
			Description: "x86-64 with AVX-512 F/BW/VL (Skylake-SP, Ice Lake, Zen 4 and later)",
			LevelVar:    "GOAMD64", Level: "v4",
		},
		{
			Name: "amd64-avx2", GOOS: amd64OS, GOARCH: "amd64",
			Features:   []string{"AVX2", "FMA3", "F16C"},
			VectorBits: 256, Kernels: KernelsAVX2,
			Description: "x86-64 with AVX2 and FMA (Haswell, Zen and later)",
			LevelVar:    "GOAMD64", Level: "v3",
		},
		{
			Name: "amd64-sse", GOOS: amd64OS, GOARCH: "amd64",
			Features:   []string{"SSE2"},
			VectorBits: 128, Kernels: KernelsSSE,
			Description: "any x86-64 CPU (SSE2 baseline)",
			LevelVar:    "GOAMD64", Level: "v1",
		},
		{
			Name: "arm64-neon", GOOS: arm64OS, GOARCH: "arm64",
			Features:   []string{"ASIMD"},
			VectorBits: 128, Kernels: KernelsNEON,
			Description: "64-bit ARM with NEON (Apple M-series, Graviton, Raspberry Pi 3/4/5)",
			LevelVar:    "GOARM64", Level: "v8.0",
		},
		generic,
	}
}

// defaultGOOS is the operating system the named targets build for: the
// host's, so the executables run here (or under qemu-user on Linux), unless
// the host's system has no port for goarch; then Linux.
func defaultGOOS(goarch string) string {
	if validPair(runtime.GOOS, goarch) {
		return runtime.GOOS
	}
	return "linux"
}

// All returns every target, best first within each GOARCH, generic last
// (bound to the host's GOOS/GOARCH; see Generic for others).
func All() []Target { return table() }

// Names returns the target names in table order.
func Names() []string {
	var names []string
	for _, t := range table() {
		names = append(names, t.Name)
	}
	return names
}

// Lookup returns the target called name. "generic" gives the pure-Go target
// for the host's GOOS/GOARCH; use Generic for another platform. An unknown
// name is an InputError that lists the valid names and suggests the nearest.
func Lookup(name string) (Target, error) {
	for _, t := range table() {
		if t.Name == name {
			return t, nil
		}
	}
	names := Names()
	return Target{}, omexerr.Inputf("input.unknown_target", "unknown target %q%s; valid targets: %s",
		name, suggest(name, names), strings.Join(names, ", "))
}

// suggest returns ` (did you mean "x"?)` for the candidate nearest to s, or
// "" when none is close enough to be a plausible typo or abbreviation.
func suggest(s string, candidates []string) string {
	lower := strings.ToLower(s)
	best, bestScore, bestD := "", -1, -1
	for _, c := range candidates {
		d := editdist.Levenshtein(lower, c)
		// "avx2" for "amd64-avx2": a part of a name is as good as a typo;
		// ties go to the smaller edit.
		score := d
		if lower != "" && strings.Contains(c, lower) {
			score = min(d, 1)
		}
		if bestScore < 0 || score < bestScore || (score == bestScore && d < bestD) {
			best, bestScore, bestD = c, score, d
		}
	}
	if best == "" || bestScore > max(2, len(s)/2) {
		return ""
	}
	return ` (did you mean "` + best + `"?)`
}

// validPair reports whether the Go toolchain can build for goos/goarch.
func validPair(goos, goarch string) bool {
	return slices.Contains(distList, goos+"/"+goarch)
}

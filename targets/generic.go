package targets

import (
	"slices"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// archLevels pins, per GOARCH, the Go variable that selects the instruction
// set level and the value the generic target builds with: Go's own default
// for a cross build (`go help environment`), the level every CPU of that
// architecture that Go supports can run. Pinning it keeps the user's
// environment out of the build.
var archLevels = map[string][2]string{
	"386":      {"GO386", "sse2"},
	"amd64":    {"GOAMD64", "v1"},
	"arm":      {"GOARM", "7"},
	"arm64":    {"GOARM64", "v8.0"},
	"mips":     {"GOMIPS", "hardfloat"},
	"mipsle":   {"GOMIPS", "hardfloat"},
	"mips64":   {"GOMIPS64", "hardfloat"},
	"mips64le": {"GOMIPS64", "hardfloat"},
	"ppc64":    {"GOPPC64", "power8"},
	"ppc64le":  {"GOPPC64", "power8"},
	"riscv64":  {"GORISCV64", "rva20u64"},
}

// Generic returns the pure-Go target for goos/goarch, which must be a pair
// the Go toolchain supports (`go tool dist list`); an empty goos or goarch
// means the host's. An unsupported pair is an InputError that lists what is
// valid.
func Generic(goos, goarch string) (Target, error) {
	host := hostCPU()
	if goos == "" {
		goos = host.goos
	}
	if goarch == "" {
		goarch = host.goarch
	}
	if err := checkPair(goos, goarch); err != nil {
		return Target{}, err
	}
	return genericTarget(goos, goarch), nil
}

// genericTarget builds the generic target's description for goos/goarch
// without checking the pair.
func genericTarget(goos, goarch string) Target {
	lv := archLevels[goarch]
	return Target{
		Name: "generic", GOOS: goos, GOARCH: goarch,
		Features: []string{}, VectorBits: 0, Kernels: KernelsGeneric,
		Description: "pure Go kernels, no assembly: any GOOS/GOARCH the Go toolchain supports",
		LevelVar:    lv[0], Level: lv[1],
	}
}

// WithGOOS returns t built for another operating system on the same
// GOARCH, e.g. amd64-avx2 for windows. The pair must be one the Go
// toolchain supports.
func (t Target) WithGOOS(goos string) (Target, error) {
	if err := checkPair(goos, t.GOARCH); err != nil {
		return Target{}, err
	}
	t.GOOS = goos
	t.Features = slices.Clone(t.Features)
	return t, nil
}

// checkPair returns an InputError naming what is wrong with goos/goarch:
// an unknown GOOS, an unknown GOARCH, or a combination Go has no port for.
func checkPair(goos, goarch string) error {
	if validPair(goos, goarch) {
		return nil
	}
	var oses, arches, archesForOS []string
	for _, p := range distList {
		o, a, _ := strings.Cut(p, "/")
		if !slices.Contains(oses, o) {
			oses = append(oses, o)
		}
		if !slices.Contains(arches, a) {
			arches = append(arches, a)
		}
		if o == goos {
			archesForOS = append(archesForOS, a)
		}
	}
	slices.Sort(arches)
	switch {
	case !slices.Contains(oses, goos):
		return omexerr.Inputf("input.unknown_goos", "unknown GOOS %q%s; Go supports: %s",
			goos, suggest(goos, oses), strings.Join(oses, ", "))
	case !slices.Contains(arches, goarch):
		return omexerr.Inputf("input.unknown_goarch", "unknown GOARCH %q%s; Go supports: %s",
			goarch, suggest(goarch, arches), strings.Join(arches, ", "))
	default:
		return omexerr.Inputf("input.unsupported_platform", "Go has no port for %s/%s; GOARCH values for %s: %s",
			goos, goarch, goos, strings.Join(archesForOS, ", "))
	}
}

package targets

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/omex-dev/omex/omexerr"
)

// goamd64Features is what each GOAMD64 level guarantees, cumulatively, in
// cpuid's names (https://go.dev/wiki/MinimumRequirements#amd64).
var goamd64Features = map[string][]string{
	"v1": {"SSE", "SSE2"},
	"v2": {"SSE", "SSE2", "SSE3", "SSSE3", "SSE4", "SSE42", "POPCNT", "CX16", "LAHF"},
	"v3": {"SSE", "SSE2", "SSE3", "SSSE3", "SSE4", "SSE42", "POPCNT", "CX16", "LAHF",
		"AVX", "AVX2", "BMI1", "BMI2", "F16C", "FMA3", "LZCNT", "MOVBE", "OSXSAVE"},
	"v4": {"SSE", "SSE2", "SSE3", "SSSE3", "SSE4", "SSE42", "POPCNT", "CX16", "LAHF",
		"AVX", "AVX2", "BMI1", "BMI2", "F16C", "FMA3", "LZCNT", "MOVBE", "OSXSAVE",
		"AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL"},
}

var kernelWidths = map[string]int{
	KernelsAVX512: 512, KernelsAVX2: 256, KernelsSSE: 128, KernelsNEON: 128, KernelsGeneric: 0,
}

func TestTableConsistency(t *testing.T) {
	all := All()
	if got, want := Names(), []string{"amd64-avx512", "amd64-avx2", "amd64-sse", "arm64-neon", "generic"}; !slices.Equal(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	seen := map[string]bool{}
	lastBits := map[string]int{}
	for _, tg := range all {
		if seen[tg.Name] {
			t.Errorf("duplicate target name %q", tg.Name)
		}
		seen[tg.Name] = true
		if tg.GOOS == "" || tg.GOARCH == "" || tg.Description == "" || tg.LevelVar == "" || tg.Level == "" {
			t.Errorf("%s: empty field: %+v", tg.Name, tg)
		}
		if !validPair(tg.GOOS, tg.GOARCH) {
			t.Errorf("%s: %s/%s is not a Go port", tg.Name, tg.GOOS, tg.GOARCH)
		}
		w, ok := kernelWidths[tg.Kernels]
		if !ok || w != tg.VectorBits {
			t.Errorf("%s: kernels %q with %d-bit vectors", tg.Name, tg.Kernels, tg.VectorBits)
		}
		if tg.Kernels != KernelsGeneric && !strings.HasSuffix(tg.Name, "-"+tg.Kernels) {
			t.Errorf("%s: name does not end in its kernel set %q", tg.Name, tg.Kernels)
		}
		if tg.Kernels != KernelsGeneric && len(tg.Features) == 0 {
			t.Errorf("%s: SIMD kernels with no features", tg.Name)
		}
		for _, f := range tg.Features {
			if cpuid.ParseFeature(f) == cpuid.UNKNOWN {
				t.Errorf("%s: feature %q is not a cpuid feature name", tg.Name, f)
			}
		}
		// Best first: host detection takes the first target it runs.
		if prev, ok := lastBits[tg.GOARCH]; ok && tg.Kernels != KernelsGeneric && tg.VectorBits > prev {
			t.Errorf("%s: wider than the target before it for %s", tg.Name, tg.GOARCH)
		}
		lastBits[tg.GOARCH] = tg.VectorBits
		switch tg.LevelVar {
		case "GOAMD64":
			// The level must guarantee every feature the kernels use, or an
			// executable could start on a CPU its kernels fault on.
			guaranteed, ok := goamd64Features[tg.Level]
			if !ok {
				t.Errorf("%s: bad GOAMD64 level %q", tg.Name, tg.Level)
			}
			for _, f := range tg.Features {
				if !slices.Contains(guaranteed, f) {
					t.Errorf("%s: GOAMD64=%s does not imply %s", tg.Name, tg.Level, f)
				}
			}
		case "GOARM64":
			for _, f := range tg.Features {
				if tg.Level != "v8.0" || (f != "ASIMD" && f != "FP") {
					t.Errorf("%s: GOARM64=%s does not imply %s", tg.Name, tg.Level, f)
				}
			}
		}
	}
	// All hands out copies: changing one must not change the table.
	all[0].Features[0] = "changed"
	if All()[0].Features[0] == "changed" {
		t.Error("All shares its Features slices with the table")
	}
}

func TestBuildEnv(t *testing.T) {
	tg, err := Lookup("amd64-avx2")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GOOS=" + tg.GOOS, "GOARCH=amd64", "GOAMD64=v3"}
	if got := tg.BuildEnv(); !slices.Equal(got, want) {
		t.Errorf("BuildEnv = %v, want %v", got, want)
	}
	neon, _ := Lookup("arm64-neon")
	if got := neon.BuildEnv(); !slices.Contains(got, "GOARM64=v8.0") || !slices.Contains(got, "GOARCH=arm64") {
		t.Errorf("arm64-neon BuildEnv = %v", got)
	}
	if s := tg.String(); s != "amd64-avx2 ("+tg.GOOS+"/amd64)" {
		t.Errorf("String = %q", s)
	}
}

func TestLookup(t *testing.T) {
	for _, name := range Names() {
		tg, err := Lookup(name)
		if err != nil || tg.Name != name {
			t.Errorf("Lookup(%q) = %v, %v", name, tg, err)
		}
	}
	g, _ := Lookup("generic")
	if g.GOOS != runtime.GOOS || g.GOARCH != runtime.GOARCH {
		t.Errorf("generic is for %s/%s, want the host's", g.GOOS, g.GOARCH)
	}
	for _, c := range []struct{ in, suggestion string }{
		{"avx2", "amd64-avx2"},
		{"amd64-avx", "amd64-avx2"},
		{"amd64_avx512", "amd64-avx512"},
		{"arm64", "arm64-neon"},
		{"neon", "arm64-neon"},
		{"Generic", "generic"},
		{"zzzzzzzzzzzzz", ""},
		{"", ""},
	} {
		_, err := Lookup(c.in)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input || e.Code != "input.unknown_target" {
			t.Errorf("Lookup(%q): want InputError input.unknown_target, got %v", c.in, err)
			continue
		}
		msg := e.Error()
		for _, name := range Names() {
			if !strings.Contains(msg, name) {
				t.Errorf("Lookup(%q): error does not list %q: %s", c.in, name, msg)
			}
		}
		hasHint := strings.Contains(msg, "did you mean")
		if c.suggestion == "" && hasHint {
			t.Errorf("Lookup(%q): unexpected suggestion: %s", c.in, msg)
		}
		if c.suggestion != "" && !strings.Contains(msg, `did you mean "`+c.suggestion+`"?`) {
			t.Errorf("Lookup(%q): want suggestion %q: %s", c.in, c.suggestion, msg)
		}
	}
}

func TestGeneric(t *testing.T) {
	rv, err := Generic("linux", "riscv64")
	if err != nil {
		t.Fatal(err)
	}
	if rv.Name != "generic" || rv.Kernels != KernelsGeneric || rv.VectorBits != 0 || len(rv.Features) != 0 {
		t.Errorf("riscv64 generic = %+v", rv)
	}
	if got := rv.BuildEnv(); !slices.Equal(got, []string{"GOOS=linux", "GOARCH=riscv64", "GORISCV64=rva20u64"}) {
		t.Errorf("riscv64 BuildEnv = %v", got)
	}
	if wasm, err := Generic("js", "wasm"); err != nil || wasm.LevelVar != "" || len(wasm.BuildEnv()) != 2 {
		t.Errorf("js/wasm = %+v, %v", wasm, err)
	}
	host, err := Generic("", "")
	if err != nil || host.GOOS != runtime.GOOS || host.GOARCH != runtime.GOARCH {
		t.Errorf(`Generic("", "") = %+v, %v; want the host's platform`, host, err)
	}
	if !host.Supported() {
		t.Errorf("generic for the host's own platform is not Supported")
	}
	for _, p := range distList {
		goos, goarch, _ := strings.Cut(p, "/")
		if _, err := Generic(goos, goarch); err != nil {
			t.Errorf("Generic(%s): %v", p, err)
		}
	}
	for _, c := range []struct{ goos, goarch, code, want string }{
		{"linux", "riscv32", "input.unknown_goarch", `did you mean "riscv64"?`},
		{"linx", "amd64", "input.unknown_goos", `did you mean "linux"?`},
		{"windows", "riscv64", "input.unsupported_platform", "amd64"},
		{"plan9", "arm64", "input.unsupported_platform", "plan9"},
		{"bogus", "bogus", "input.unknown_goos", "linux"},
	} {
		_, err := Generic(c.goos, c.goarch)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input || e.Code != c.code || !strings.Contains(e.Error(), c.want) {
			t.Errorf("Generic(%q, %q) = %v; want %s mentioning %q", c.goos, c.goarch, err, c.code, c.want)
		}
	}
}

func TestWithGOOS(t *testing.T) {
	avx2, _ := Lookup("amd64-avx2")
	win, err := avx2.WithGOOS("windows")
	if err != nil || win.GOOS != "windows" || win.GOARCH != "amd64" || win.Level != "v3" {
		t.Fatalf("WithGOOS(windows) = %+v, %v", win, err)
	}
	win.Features[0] = "changed"
	if avx2.Features[0] == "changed" {
		t.Error("WithGOOS shares Features with its receiver")
	}
	neon, _ := Lookup("arm64-neon")
	if _, err := neon.WithGOOS("plan9"); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("arm64-neon for plan9: %v, want InputError", err)
	}
}

func TestDistListSorted(t *testing.T) {
	if !slices.IsSorted(distList) || len(slices.Compact(slices.Clone(distList))) != len(distList) {
		t.Error("distList is not sorted and unique")
	}
	for _, p := range []string{"linux/amd64", "linux/arm64", "linux/riscv64", "darwin/arm64", "windows/amd64"} {
		if !slices.Contains(distList, p) {
			t.Errorf("%s missing from distList", p)
		}
	}
}

package targets

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestHostIsSupportedAndBest(t *testing.T) {
	h := Host()
	t.Logf("host: %s on %q", h, HostCPU())
	if h.GOARCH != runtime.GOARCH || h.GOOS != runtime.GOOS {
		t.Errorf("Host() = %s, running on %s/%s", h, runtime.GOOS, runtime.GOARCH)
	}
	if !h.Supported() {
		t.Errorf("Host() = %s is not Supported() here", h)
	}
	if _, err := Lookup(h.Name); err != nil {
		t.Errorf("Host().Name: %v", err)
	}
	// Nothing before the host's target in the table may run here: Host
	// must be the best, not merely a supported one.
	for _, tg := range All() {
		if tg.Name == h.Name {
			break
		}
		if tg.Supported() {
			t.Errorf("%s runs here but Host() chose %s", tg.Name, h.Name)
		}
	}
	for _, tg := range All() {
		if tg.Supported() && tg.GOARCH != runtime.GOARCH {
			t.Errorf("%s reported Supported on a %s host", tg, runtime.GOARCH)
		}
	}
}

func TestBestForCPUs(t *testing.T) {
	osName := runtime.GOOS
	feats := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	v4 := goamd64Features["v4"]
	v3 := goamd64Features["v3"]
	for _, c := range []struct {
		name string
		cpu  cpu
		want string // target name, or "generic/GOARCH"
		runs []string
	}{
		{"zen4", cpu{osName, "amd64", feats(v4...), 4}, "amd64-avx512",
			[]string{"amd64-avx512", "amd64-avx2", "amd64-sse"}},
		// AVX-512 flags but a CPU short of v4 (say AVX512CD missing): the
		// Go runtime would refuse a GOAMD64=v4 executable.
		{"avx512 below v4", cpu{osName, "amd64", feats(append(slices.Clone(v3), "AVX512F", "AVX512BW", "AVX512VL")...), 3},
			"amd64-avx2", []string{"amd64-avx2", "amd64-sse"}},
		{"haswell", cpu{osName, "amd64", feats(v3...), 3}, "amd64-avx2", []string{"amd64-avx2", "amd64-sse"}},
		// AVX2 and FMA without the rest of v3 (e.g. no MOVBE): no avx2.
		{"avx2 below v3", cpu{osName, "amd64", feats("SSE", "SSE2", "AVX", "AVX2", "FMA3", "F16C"), 2},
			"amd64-sse", []string{"amd64-sse"}},
		{"old x86-64", cpu{osName, "amd64", feats("SSE", "SSE2"), 1}, "amd64-sse", []string{"amd64-sse"}},
		{"no sse2 reported", cpu{osName, "amd64", feats(), 1}, "generic/amd64", nil},
		{"graviton", cpu{osName, "arm64", feats("FP", "ASIMD", "ATOMICS"), 0}, "arm64-neon", []string{"arm64-neon"}},
		{"arm64 without asimd", cpu{osName, "arm64", feats("FP"), 0}, "generic/arm64", nil},
		{"riscv64", cpu{"linux", "riscv64", feats("RV_IMA", "RV_V"), 0}, "generic/riscv64", nil},
		// A Windows host with AVX-512 does not run the table's (host-OS)
		// amd64 executables unless the host OS is Windows.
		{"other os", cpu{"windows", "amd64", feats(v4...), 4}, "", nil},
	} {
		got := c.cpu.best()
		want := c.want
		if want == "" { // depends on whether the test runs on Windows
			want = "generic/amd64"
			if osName == "windows" {
				want, c.runs = "amd64-avx512", []string{"amd64-avx512", "amd64-avx2", "amd64-sse"}
			}
		}
		if goarch, ok := strings.CutPrefix(want, "generic/"); ok {
			if got.Name != "generic" || got.GOARCH != goarch || got.GOOS != c.cpu.goos {
				t.Errorf("%s: best = %s, want generic for %s/%s", c.name, got, c.cpu.goos, goarch)
			}
		} else if got.Name != want {
			t.Errorf("%s: best = %s, want %s", c.name, got, want)
		}
		if !c.cpu.runs(got) {
			t.Errorf("%s: best target %s does not run on the CPU", c.name, got)
		}
		var runs []string
		for _, tg := range All() {
			if tg.Kernels != KernelsGeneric && c.cpu.runs(tg) {
				runs = append(runs, tg.Name)
			}
		}
		if !slices.Equal(runs, c.runs) {
			t.Errorf("%s: runs %v, want %v", c.name, runs, c.runs)
		}
	}
}

func TestAMD64Level(t *testing.T) {
	for in, want := range map[string]int{"v1": 1, "v2": 2, "v3": 3, "v4": 4, "v5": 99, "3": 99, "": 99, "vx": 99, "v0": 99} {
		if got := amd64Level(in); got != want {
			t.Errorf("amd64Level(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestDistListMatchesToolchain checks the static port list against the
// installed toolchain's, when it is the go1.26 it was copied from.
func TestDistListMatchesToolchain(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	ver, err := exec.Command(goBin, "env", "GOVERSION").Output()
	if err != nil {
		t.Skipf("go env GOVERSION: %v", err)
	}
	if v := strings.TrimSpace(string(ver)); v != "go1.26" && !strings.HasPrefix(v, "go1.26.") {
		t.Skipf("toolchain is %s; distList was taken from go1.26", v)
	}
	out, err := exec.Command(goBin, "tool", "dist", "list").Output()
	if err != nil {
		t.Skipf("go tool dist list: %v", err)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, distList) {
		t.Errorf("distList differs from `go tool dist list`:\n got  %v\n have %v", got, distList)
	}
}

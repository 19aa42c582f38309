package llvm

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	omex "github.com/omex-dev/omex"
	"github.com/omex-dev/omex/runtime/kernels"
)

// The link tests build real Go executables, without cgo, from the
// generated packages, as omexc build does: a module written from
// omex.RuntimeSource, one package per kernel set (gen/<set>: GoFiles'
// output plus a small harness file), and a main that reads cases, runs
// the kernels and compares their bits with runtime/kernels' results
// computed here. The amd64 binary runs natively, the arm64 one under
// qemu-aarch64. A package for another GOARCH runs its pure-Go fallbacks,
// so both binaries also check every fallback.

// linkCase is one kernel call and its expected result. The harness
// decodes the same struct (harnessCases below).
type linkCase struct {
	Set, Kernel, Kind string
	Groups, Split     int
	W                 []byte
	S, X, Y           []float32
	Eps               float32
	Alias             bool
	Want              []float32
	// For the benchmark: the weight as runtime/kernels reads it.
	DType     uint32
	N, K      int
	Raw       []byte
	RawScales []float32
}

var harnessCases = `package cases

// Case is one kernel call and its expected result (see link_test.go).
type Case struct {
	Set, Kernel, Kind string
	Groups, Split     int
	W                 []byte
	S, X, Y           []float32
	Eps               float32
	Alias             bool
	Want              []float32
	DType             uint32
	N, K              int
	Raw               []byte
	RawScales         []float32
}
`

// harnessPackage is the extra file of gen/<set>: Run and Bench call the
// package's kernels by name (they are unexported, like goasm's).
func harnessPackage(set string, ks []Kernel) string {
	var b strings.Builder
	fmt.Fprintf(&b, `package %s

import (
	"fmt"
	"math"
	"time"

	"github.com/omex-dev/omex/llvmtest/cases"
)

var matvecs = map[string]func(out []float32, w []byte, s []float32, x []float32, g0, g1 int){
`, set)
	for _, k := range ks {
		if _, ok := k.(MatVec); ok {
			fmt.Fprintf(&b, "\t%q: %s,\n", k.Name(), k.Name())
		}
	}
	b.WriteString("}\n\nvar norms = map[string]func(out, x, w []float32, eps float32){\n")
	for _, k := range ks {
		if e, ok := k.(Elementwise); ok && e.Op == OpRMSNorm {
			fmt.Fprintf(&b, "\t%q: %s,\n", k.Name(), k.Name())
		}
	}
	b.WriteString("}\n\nvar binops = map[string]func(dst, src []float32){\n")
	for _, k := range ks {
		if e, ok := k.(Elementwise); ok && e.Op != OpRMSNorm {
			fmt.Fprintf(&b, "\t%q: %s,\n", k.Name(), k.Name())
		}
	}
	b.WriteString(`}

const pad = 20

// sentinel fills the slots after the outputs: a kernel must not touch them.
var sentinel = math.Float32frombits(0x7fc0dead)

func buffer(n int) []float32 {
	b := make([]float32, n+pad)
	for i := range b {
		b[i] = sentinel
	}
	return b
}

// Run calls the case's kernel and compares its output bit for bit (two
// NaNs match whatever their payloads).
func Run(c *cases.Case) error {
	n := len(c.Want)
	var got []float32
	switch c.Kind {
	case "matvec":
		f := matvecs[c.Kernel]
		got = buffer(n)
		f(got[:n:n], c.W, c.S, c.X, 0, c.Split)
		f(got[:n:n], c.W, c.S, c.X, c.Split, c.Groups)
		f(got[:n:n], c.W, c.S, c.X, c.Groups, c.Groups) // empty range: no effect
	case "rmsnorm":
		f := norms[c.Kernel]
		if c.Alias {
			got = append(append([]float32(nil), c.X...), buffer(0)...)
			f(got[:n:n], got[:n:n], c.Y, c.Eps)
		} else {
			got = buffer(n)
			f(got[:n:n], c.X, c.Y, c.Eps)
		}
	default:
		f := binops[c.Kernel]
		got = append(append([]float32(nil), c.Y...), buffer(0)...)
		f(got[:n:n], c.X)
	}
	for i, w := range c.Want {
		g := got[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return fmt.Errorf("%s: out[%d] = %v (%#08x), want %v (%#08x)", c.Kernel, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
	for i := n; i < len(got); i++ {
		if math.Float32bits(got[i]) != math.Float32bits(sentinel) {
			return fmt.Errorf("%s: wrote past its %d outputs, at %d", c.Kernel, n, i)
		}
	}
	return nil
}

// Bench times iters full calls of a matvec case.
func Bench(c *cases.Case, iters int) time.Duration {
	f := matvecs[c.Kernel]
	out := make([]float32, len(c.Want))
	start := time.Now()
	for range iters {
		f(out, c.W, c.S, c.X, 0, c.Groups)
	}
	return time.Since(start)
}
`)
	return b.String()
}

// harnessMain reads the cases and runs them: `check FILE` compares every
// case, `bench FILE ITERS` times the LLVM kernel and runtime/kernels'
// MatVec on one goroutine, printing "kernel llvm_ns ref_ns" per case.
func harnessMain(sets []string) string {
	var b strings.Builder
	b.WriteString(`package main

import (
	"encoding/gob"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/omex-dev/omex/llvmtest/cases"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
`)
	for _, s := range sets {
		fmt.Fprintf(&b, "\t%q\n", "github.com/omex-dev/omex/llvmtest/gen/"+s)
	}
	b.WriteString(")\n\nvar run = map[string]func(*cases.Case) error{\n")
	for _, s := range sets {
		fmt.Fprintf(&b, "\t%q: %s.Run,\n", s, s)
	}
	b.WriteString("}\n\nvar bench = map[string]func(*cases.Case, int) time.Duration{\n")
	for _, s := range sets {
		fmt.Fprintf(&b, "\t%q: %s.Bench,\n", s, s)
	}
	b.WriteString(`}

func main() {
	f, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	var cs []cases.Case
	if err := gob.NewDecoder(f).Decode(&cs); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	if os.Args[1] == "bench" {
		iters, _ := strconv.Atoi(os.Args[3])
		runtime.GOMAXPROCS(1)
		for i := range cs {
			c := &cs[i]
			t := &tensor.Tensor{Name: "w", DType: tensor.DType(c.DType), Shape: []int{c.N, c.K}, Data: c.Raw, Scales: c.RawScales}
			m, err := kernels.NewMatrix(t, "w", c.N, c.K)
			if err != nil {
				fmt.Println(err)
				os.Exit(2)
			}
			out := make([]float32, c.N)
			bench[c.Set](c, 1) // warm up
			start := time.Now()
			for range iters {
				m.MatVec(out, c.X)
			}
			ref := time.Since(start)
			llvm := bench[c.Set](c, iters)
			fmt.Println(c.Kernel, llvm.Nanoseconds(), ref.Nanoseconds())
		}
		return
	}
	failed := 0
	for i := range cs {
		if err := run[cs[i].Set](&cs[i]); err != nil {
			fmt.Println("FAIL", err)
			failed++
		}
	}
	fmt.Printf("%d cases, %d failed\n", len(cs), failed)
	if failed > 0 {
		os.Exit(1)
	}
}
`)
	return b.String()
}

// harness is the built test module, shared by the tests and benchmarks.
type harness struct {
	dir  string
	err  error
	sets []string
	bins map[string]string // GOARCH -> executable
	mu   sync.Mutex
}

var (
	harnessOnce sync.Once
	theHarness  harness
	harnessRoot string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if harnessRoot != "" {
		os.RemoveAll(harnessRoot)
	}
	os.Exit(code)
}

// buildHarness writes the test module once: the runtime source, the
// generated packages of every SIMD kernel set, the harness.
func buildHarness(t testing.TB) *harness {
	t.Helper()
	llc := requireLLC(t)
	if !haveCommand("go") {
		t.Skip("skipping: no go command on the PATH")
	}
	harnessOnce.Do(func() {
		h := &theHarness
		h.bins = map[string]string{}
		dir, err := os.MkdirTemp("", "omex-llvm-link-")
		if err != nil {
			h.err = err
			return
		}
		harnessRoot = dir
		h.dir = dir
		h.err = writeHarness(t, dir, llc, h)
	})
	if theHarness.err != nil {
		t.Fatal(theHarness.err)
	}
	return &theHarness
}

func writeHarness(t testing.TB, dir string, llc *LLC, h *harness) error {
	// The runtime module as omexc build writes it (tests and testdata
	// left out).
	err := fs.WalkDir(omex.RuntimeSource, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := omex.RuntimeSource.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), data, 0o644)
	})
	if err != nil {
		return err
	}
	write := func(rel, text string) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(text), 0o644)
	}
	if err := write("llvmtest/cases/cases.go", harnessCases); err != nil {
		return err
	}
	for _, tg := range simdTargets(t) {
		set := tg.Kernels
		ks := append(testKernels(set), benchKernels(set)...)
		files, err := Package(context.Background(), set, tg, ks, llc)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := write(filepath.Join("llvmtest/gen", set, f.Name), string(f.Data)); err != nil {
				return err
			}
		}
		if err := write(filepath.Join("llvmtest/gen", set, "harness.go"), harnessPackage(set, ks)); err != nil {
			return err
		}
		h.sets = append(h.sets, set)
	}
	return write("llvmtest/main.go", harnessMain(h.sets))
}

// binary builds the harness for goarch (once) and returns its path.
func (h *harness) binary(t testing.TB, goarch string) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if bin, ok := h.bins[goarch]; ok {
		return bin
	}
	bin := filepath.Join(h.dir, "harness-"+goarch)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./llvmtest")
	cmd.Dir = h.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=-mod=readonly", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (GOARCH=%s, CGO_ENABLED=0) of the generated packages failed: %v\n%s", goarch, err, out)
	}
	h.bins[goarch] = bin
	return bin
}

// linkCases builds the cases of every kernel of set; seed varies the data.
func linkCases(t testing.TB, set string, seed uint64) []linkCase {
	rng := rand.New(rand.NewPCG(seed, 0x11f))
	var cs []linkCase
	for _, k := range testKernels(set) {
		switch k := k.(type) {
		case MatVec:
			w := randomMatrix(rng, k.DType, k.N, k.K)
			x := randFloats(rng, k.K)
			data, scales := interleave(w, k.Lanes())
			cs = append(cs, linkCase{Set: set, Kernel: k.Name(), Kind: "matvec", Groups: k.Groups(), Split: rng.IntN(k.Groups() + 1),
				W: data, S: scales, X: x, Want: reference(t, w, x)})
		case Elementwise:
			x, y := randFloats(rng, k.N), randFloats(rng, k.N)
			switch k.Op {
			case OpRMSNorm:
				eps := float32(1e-5)
				want := make([]float32, k.N)
				kernels.RMSNorm(want, x, y, eps)
				cs = append(cs, linkCase{Set: set, Kernel: k.Name(), Kind: k.Op, X: x, Y: y, Eps: eps, Want: want},
					linkCase{Set: set, Kernel: k.Name(), Kind: k.Op, X: x, Y: y, Eps: eps, Want: want, Alias: true})
			default:
				want := append([]float32(nil), y...)
				if k.Op == OpAdd {
					kernels.Add(want, x)
				} else {
					kernels.Mul(want, x)
				}
				cs = append(cs, linkCase{Set: set, Kernel: k.Name(), Kind: k.Op, X: x, Y: y, Want: want})
			}
		}
	}
	return cs
}

// runHarness writes cases to a file and runs the harness binary on them
// (through runner, e.g. qemu, when not empty).
func runHarness(t testing.TB, h *harness, bin string, runner []string, args []string, cs []linkCase) string {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(cs); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(h.dir, "cases-*.gob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer os.Remove(f.Name())
	argv := append(append(append([]string{}, runner...), bin, args[0], f.Name()), args[1:]...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// checkArch runs every case whose kernels can execute on goarch: LLVM
// kernels of goarch's sets when the CPU (or emulator) has their features,
// and the pure-Go fallbacks of the other GOARCH's sets.
func checkArch(t *testing.T, goarch string, runner []string) {
	h := buildHarness(t)
	bin := h.binary(t, goarch)
	var cs []linkCase
	var skipped []string
	for i, tg := range simdTargets(t) {
		if tg.GOARCH == goarch && goarch == "amd64" && !tg.Supported() {
			skipped = append(skipped, tg.Name)
			continue
		}
		cs = append(cs, linkCases(t, tg.Kernels, uint64(i+1))...)
	}
	if len(skipped) > 0 {
		t.Logf("this CPU lacks the features of %v: those kernels were compiled and linked, not run", skipped)
	}
	out := runHarness(t, h, bin, runner, []string{"check"}, cs)
	t.Logf("%s: %s", goarch, strings.TrimSpace(out))
}

// TestLinkAMD64 builds the kernels into an amd64 executable with
// CGO_ENABLED=0 and checks them bit for bit against runtime/kernels.
func TestLinkAMD64(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds Go executables")
	}
	runner := []string{}
	if !hostIs("amd64") {
		if !haveCommand("qemu-x86_64-static") {
			t.Skip("skipping: not amd64 and no qemu-x86_64-static")
		}
		runner = []string{"qemu-x86_64-static"}
	}
	checkArch(t, "amd64", runner)
}

// TestLinkARM64 does the same for arm64, under qemu-aarch64 unless the
// host is arm64.
func TestLinkARM64(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds Go executables")
	}
	runner := []string{}
	if !hostIs("arm64") {
		if !haveCommand("qemu-aarch64-static") {
			t.Skip("skipping: not arm64 and no qemu-aarch64-static (Debian: qemu-user-static)")
		}
		runner = []string{"qemu-aarch64-static"}
	}
	checkArch(t, "arm64", runner)
}

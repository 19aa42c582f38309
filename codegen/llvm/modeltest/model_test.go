// Package modeltest_test runs a whole model through the LLVM backend the
// way omexc build --backend=llvm does: codegen/goasm generates the decode
// schedule, codegen/llvm compiles the kernels it calls, its files replace
// goasm's kernel files, and the package is built without cgo into an
// executable. It lives apart from package llvm so that the compiler
// packages it needs (frontend, passes, goasm) cannot break llvm's own
// tests.
package modeltest_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	omex "github.com/omex-dev/omex"
	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/codegen/llvm"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// mainSource runs both generated packages on the same weights (argument
// 1): a prompt (argument 2, ids), then greedy decoding (argument 3 steps),
// printing per package the ids and a digest of every logit's bits.
const mainSource = `package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	goasmmodel "github.com/omex-dev/omex/llvmtest/goasm/model"
	llvmmodel "github.com/omex-dev/omex/llvmtest/llvm/model"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/tensor"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	var ts []tensor.Tensor
	if err := gob.NewDecoder(f).Decode(&ts); err != nil {
		panic(err)
	}
	byName := map[string]*tensor.Tensor{}
	for i := range ts {
		byName[ts[i].Name] = &ts[i]
	}
	get := func(name string) (*tensor.Tensor, error) {
		if t, ok := byName[name]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("no weight %s", name)
	}
	g, err := goasmmodel.NewFromWeights(get)
	if err != nil {
		panic(err)
	}
	l, err := llvmmodel.NewFromWeights(get)
	if err != nil {
		panic(err)
	}
	var prompt []int
	for _, f := range strings.Split(os.Args[2], ",") {
		id, err := strconv.Atoi(f)
		if err != nil {
			panic(err)
		}
		prompt = append(prompt, id)
	}
	steps, err := strconv.Atoi(os.Args[3])
	if err != nil {
		panic(err)
	}
	run("goasm", g, prompt, steps)
	run("llvm", l, prompt, steps)
}

func run(name string, m generate.Model, prompt []int, steps int) {
	h := sha256.New()
	logits, err := m.Prefill(prompt, 0)
	if err != nil {
		panic(err)
	}
	ids := append([]int(nil), prompt[1:]...)
	for pos := len(prompt); pos < len(prompt)+steps; pos++ {
		for _, v := range logits {
			h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
		}
		next := 0
		for i, v := range logits {
			if v > logits[next] {
				next = i
			}
		}
		ids = append(ids, next)
		if logits, err = m.Decode(next, pos); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%s %x", name, h.Sum(nil))
	for _, id := range ids {
		fmt.Printf(" %d", id)
	}
	fmt.Println()
}
`

// model is one build checked: a shared model file, its target and
// quantization, and run.c's golden ids when there are some.
type model struct {
	path, tokenizer, target, quant string
	golden                         string
	prompt                         string // token ids, BOS first
	steps                          int
}

// models: stories260K at f32 on AVX2 (native) and NEON (qemu-aarch64),
// against run.c's golden ids; TinyStories-656K as Q8_0 on AVX-512 and
// its F16 GGUF quantized to q4_0 on AVX2 (the goasm test models' mix).
var models = []model{
	{path: "models/stories260K/stories260K.bin", tokenizer: "models/stories260K/tok512.bin", target: "amd64-avx2",
		golden: "golden/stories260K.run_c.once_upon.t0.n256.ids.txt", prompt: "1,403,407,261,378", steps: 252},
	{path: "models/stories260K/stories260K.bin", tokenizer: "models/stories260K/tok512.bin", target: "arm64-neon",
		golden: "golden/stories260K.run_c.once_upon.t0.n256.ids.txt", prompt: "1,403,407,261,378", steps: 252},
	{path: "models/tinystories-656k/tinystories-656k-q8_0.gguf", target: "amd64-avx512", prompt: "1,9,70,300,14", steps: 60},
	{path: "models/tinystories-656k/TinyStories-656K.f16.gguf", target: "amd64-avx2", quant: "q4_0", prompt: "1,9,70,300,14", steps: 60},
}

// TestModelsLLVMBackend builds each model with the LLVM kernels and
// checks its tokens and logits against the Go-assembly build of the same
// schedule, bit for bit, and stories260K's ids against run.c's.
func TestModelsLLVMBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: compiles models and builds executables")
	}
	shared := testfiles.Shared(t)
	llc, err := llvm.FindLLC()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipping: no go command")
	}
	for _, md := range models {
		t.Run(filepath.Base(md.path)+"/"+md.target+md.quant, func(t *testing.T) {
			tg, err := targets.Lookup(md.target)
			if err != nil {
				t.Fatal(err)
			}
			tg.GOOS = "linux"
			var runner []string
			switch {
			case tg.GOARCH != runtime.GOARCH:
				if _, err := exec.LookPath("qemu-aarch64-static"); err != nil || tg.GOARCH != "arm64" {
					t.Skipf("skipping: %s needs an emulator", tg.GOARCH)
				}
				runner = []string{"qemu-aarch64-static"}
			case !tg.Supported():
				t.Skipf("skipping: this CPU does not run %s", tg.Name)
			}
			out := buildAndRun(t, shared, md, tg, llc, runner)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("harness output:\n%s", out)
			}
			g, l := strings.Fields(lines[0]), strings.Fields(lines[1])
			if g[0] != "goasm" || l[0] != "llvm" || len(g) != len(l) {
				t.Fatalf("harness output:\n%s", out)
			}
			if g[1] != l[1] {
				t.Errorf("logits differ: goasm digest %s, llvm %s", g[1], l[1])
			}
			if strings.Join(g[2:], " ") != strings.Join(l[2:], " ") {
				t.Errorf("ids differ:\ngoasm %v\nllvm  %v", g[2:], l[2:])
			}
			what := "ids"
			if md.golden != "" {
				golden := testfiles.ReadIDs(t, filepath.Join(shared, md.golden))
				want := make([]string, len(golden))
				for i, id := range golden {
					want[i] = strconv.Itoa(id)
				}
				if len(l)-2 < len(want) || strings.Join(l[2:2+len(want)], " ") != strings.Join(want, " ") {
					t.Errorf("llvm ids differ from run.c's golden:\n got %v\nwant %v", l[2:], want)
				}
				what = "ids (run.c's golden)"
			}
			t.Logf("%s on %s: %d %s and every logit bit-identical to the Go-assembly build", filepath.Base(md.path), tg.Name, len(l)-2, what)
		})
	}
}

// buildAndRun compiles model md for tg, generates both packages, builds
// the harness for tg's GOARCH with CGO_ENABLED=0 and runs it.
func buildAndRun(t *testing.T, shared string, md model, tg targets.Target, llc *llvm.LLC, runner []string) string {
	opt := importer.OpenOptions{}
	if md.tokenizer != "" {
		opt.Tokenizer = filepath.Join(shared, md.tokenizer)
	}
	src, err := importer.Open(filepath.Join(shared, md.path), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	mod, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := passes.Compile(context.Background(), mod, passes.Options{Target: tg.Name, Quant: md.quant, Weights: src.ReadTensor})
	if err != nil {
		t.Fatal(err)
	}
	isa, err := goasm.ForTarget(tg)
	if err != nil {
		t.Fatal(err)
	}
	goasmFiles, err := goasm.GenerateModel(res.Module, isa, "model")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := llvm.ModuleKernels(res.Module, tg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) == 0 {
		t.Fatal("no weight carries the target's interleaved layout")
	}
	// The layout annotation ModuleKernels reads is goasm's.
	for _, w := range res.Module.Weights {
		if w.Layout != "" && w.Layout != goasm.LayoutName(isa.Lanes()) {
			t.Fatalf("weight @%s has layout %q, goasm's is %q", w.Name, w.Layout, goasm.LayoutName(isa.Lanes()))
		}
	}
	llvmFiles, err := llvm.Package(context.Background(), "model", tg, ks, llc)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	writeRuntime(t, dir)
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replaced := 0
	for _, f := range goasmFiles {
		write(filepath.Join("llvmtest/goasm/model", f.Name), f.Data)
		// goasm's kernel files (matvec_*) give way to the LLVM ones.
		if strings.HasPrefix(f.Name, "matvec_") {
			replaced++
			continue
		}
		write(filepath.Join("llvmtest/llvm/model", f.Name), f.Data)
	}
	if replaced == 0 {
		t.Fatal("goasm generated no matvec_* kernel files to replace")
	}
	for _, f := range llvmFiles {
		write(filepath.Join("llvmtest/llvm/model", f.Name), f.Data)
	}
	write("llvmtest/main.go", []byte(mainSource))

	get := passes.RepackedWeights(res.Module, tg.Name, src.ReadTensor)
	var ts []tensor.Tensor
	for _, w := range res.Module.Weights {
		wt, err := get(w.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, *wt)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ts); err != nil {
		t.Fatal(err)
	}
	write("weights.gob", buf.Bytes())

	bin := filepath.Join(dir, "stories")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./llvmtest")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+tg.GOOS, "GOARCH="+tg.GOARCH, tg.LevelVar+"="+tg.Level,
		"GOFLAGS=-mod=readonly", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (CGO_ENABLED=0, %s): %v\n%s", tg, err, out)
	}
	argv := append(append([]string{}, runner...), bin, filepath.Join(dir, "weights.gob"), md.prompt, strconv.Itoa(md.steps))
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// writeRuntime writes the runtime module omexc build starts from (tests
// and testdata left out).
func writeRuntime(t *testing.T, dir string) {
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
		t.Fatal(err)
	}
}

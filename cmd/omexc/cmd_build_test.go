package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/targets"
)

// storyArgs is the bundled model as build's arguments.
var storyArgs = []string{"build", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin"}

// builds holds executables built once per test run and shared by the
// tests (a build takes seconds), keyed by their extra build flags.
var builds = struct {
	sync.Mutex
	paths map[string]string
}{paths: map[string]string{}}

// buildStory builds the bundled model with extra flags (once per flag set)
// into the directory TestMain removes, and returns the executable's path.
func buildStory(t *testing.T, extra ...string) string {
	t.Helper()
	key := strings.Join(extra, " ")
	builds.Lock()
	defer builds.Unlock()
	if p, ok := builds.paths[key]; ok {
		if p == "" {
			t.Fatalf("the build with %q failed earlier", key)
		}
		return p
	}
	builds.paths[key] = ""
	dir, err := os.MkdirTemp(filepath.Dir(omexcBin), "build")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "story")
	args := append(append(append([]string{}, storyArgs...), "-o", out), extra...)
	stdout, stderr, code := omexc(t, repoRoot(t), args...)
	if code != 0 {
		t.Fatalf("omexc %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	builds.paths[key] = out
	return out
}

// runExe runs a produced executable (through emu, e.g. qemu, when given)
// in dir and returns stdout, stderr and the exit status.
func runExe(t *testing.T, dir string, emu, path string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	if emu != "" {
		cmd = exec.Command(emu, append([]string{path}, args...)...)
	}
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// goldenStory is what run.c printed for the bundled model's greedy story,
// or, without ../shared, what omexc run --reference prints (which a test of
// omexc run holds to run.c's output).
func goldenStory(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	if p, err := testfiles.SharedPath("golden/stories260K.run_c.once_upon.t0.n256.txt"); err == nil {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Log("../shared not found: comparing with omexc run --reference")
	out, stderr, code := omexc(t, root, runArgs("-p", "Once upon a time", "--temp", "0", "-n", "252", "--reference")...)
	if code != 0 {
		t.Fatalf("omexc run: exit %d: %s", code, stderr)
	}
	return out
}

var storyGreedy = []string{"-p", "Once upon a time", "-n", "252", "--temp", "0"}

// TestBuildHostMatchesRunC: the host executable prints run.c's 256-position
// greedy story byte for byte, also when it is the only file in an empty
// directory; omexc build reports its path, size and sha256.
func TestBuildHostMatchesRunC(t *testing.T) {
	exePath := buildStory(t)
	want := goldenStory(t)
	out, stderr, code := runExe(t, t.TempDir(), "", exePath, storyGreedy...)
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\n got %q\nwant %q", code, stderr, out, want)
	}
	// Alone in an empty directory, started from there with no environment.
	alone := t.TempDir()
	b, err := os.ReadFile(exePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alone, "story"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("./story", storyGreedy...)
	cmd.Dir, cmd.Env = alone, []string{}
	got, err := cmd.Output()
	if err != nil || string(got) != want {
		t.Fatalf("copied alone: %v\n got %q", err, got)
	}
}

// TestBuildReproducible: a second build with the same inputs and flags
// gives the same bytes and the same reported sha256, and (with the Go build
// cache warm) takes well under 20 s.
func TestBuildReproducible(t *testing.T) {
	first := buildStory(t)
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "story")
	start := time.Now()
	stdout, stderr, code := omexc(t, root, append(append([]string{}, storyArgs...), "-o", out)...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ (%d and %d bytes)", len(a), len(b))
	}
	for _, want := range []string{"wrote " + out, "size   " + strconv.Itoa(len(b)) + " bytes", "sha256 "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("build's report lacks %q:\n%s", want, stdout)
		}
	}
	// The time is reported, not asserted: wall-clock limits in unit tests
	// fail on slow or loaded machines for reasons unrelated to the code.
	t.Logf("second build: %v, %d bytes", took.Round(time.Millisecond), len(b))
}

// TestBuildEmitAsm: --emit=asm writes the generated assembly, stubs and
// schedule beside the executable, and does not change the executable.
func TestBuildEmitAsm(t *testing.T) {
	if isa, _ := goasm.ForTarget(targets.Host()); isa == goasm.Generic {
		t.Skip("this host's target runs the reference runtime: no generated code to emit")
	}
	first := buildStory(t)
	out := filepath.Join(t.TempDir(), "story")
	if _, stderr, code := omexc(t, repoRoot(t), append(append([]string{}, storyArgs...), "-o", out, "--emit", "asm")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Fatal("--emit=asm changed the executable")
	}
	entries, err := os.ReadDir(out + ".asm")
	if err != nil {
		t.Fatal(err)
	}
	var asm, schedule bool
	for _, e := range entries {
		asm = asm || strings.HasSuffix(e.Name(), ".s")
		schedule = schedule || e.Name() == "model_gen.go"
	}
	if !asm || !schedule {
		t.Fatalf("OUT.asm lacks the assembly or the schedule: %v", entries)
	}
}

// TestBuildExecutableFlags: --version, --info and --help of a produced
// executable, and its exit statuses for mistakes (2 usage, 11 input).
func TestBuildExecutableFlags(t *testing.T) {
	exePath := buildStory(t)
	dir := t.TempDir()
	out, _, code := runExe(t, dir, "", exePath, "--version")
	for _, want := range []string{"compiler:     omexc " + version, "model:        stories260K", "quantization: f32 (weights: 47 f32)", "build flags:  --target=", "model sha256: "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--version: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	out, stderr, code := runExe(t, dir, "", exePath, "--info")
	var info struct {
		Plan []struct {
			Function     string `json:"function"`
			Instructions int    `json:"instructions"`
		} `json:"plan"`
		ArenaBytes  int64 `json:"arena_bytes"`
		WeightBytes int64 `json:"weight_bytes"`
		Context     int   `json:"context"`
		Vocab       int   `json:"vocab"`
		Mapped      bool  `json:"weights_mapped"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 {
		t.Fatalf("--info: exit %d, %v: %s %s", code, err, out, stderr)
	}
	if len(info.Plan) != 2 || info.Plan[1].Function != "decode" || info.Plan[1].Instructions == 0 || !info.Mapped {
		t.Errorf("--info: %s", out)
	}
	// 1040128 bytes are stories260K's f32 weights page-aligned; kernels
	// that pad rows to their vector width may carry a little more.
	if info.ArenaBytes <= 0 || info.WeightBytes < 1040128 || info.WeightBytes > 1100000 || info.Context != 512 {
		t.Errorf("--info lacks arena, weight bytes or context: %s", out)
	}
	if out, _, code := runExe(t, dir, "", exePath, "--help"); code != 0 || !strings.Contains(out, "--top-k") {
		t.Errorf("--help: exit %d: %s", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--no-such-flag"}, 2},
		{[]string{"-n", "many"}, 2},
		{[]string{"-n", "-1"}, 11},
		{[]string{"--top-p", "3"}, 11},
		{[]string{"-p", strings.Repeat("Once upon a time. ", 200)}, 11},
	} {
		if _, stderr, code := runExe(t, dir, "", exePath, c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, stderr)
		}
	}
}

// TestBuildBadInput: build's mistakes are usage errors (2) or InputErrors
// (11) naming the flag, and leave no executable.
func TestBuildBadInput(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--target", "amd64-avx3"}, 11, "--target"},
		{[]string{"--target", "generic", "--goarch", "vax"}, 11, "vax"},
		{[]string{"--target", "arm64-neon", "--goarch", "riscv64"}, 11, "--goarch"},
		{[]string{"--emit", "obj"}, 11, "--emit"},
		{[]string{"--quant", "q3_k"}, 11, "q3_k"},
		{[]string{"--disable-pass", "nope"}, 11, "nope"},
	} {
		args := append(append(append([]string{}, storyArgs...), "-o", out), c.args...)
		_, stderr, code := omexc(t, root, args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %s", c.args, code, stderr, c.code, c.says)
		}
	}
	if _, _, code := omexc(t, root, "build"); code != 2 {
		t.Errorf("build without MODEL: exit %d, want 2", code)
	}
	if _, stderr, code := omexc(t, root, "build", "no-such-model.gguf", "-o", out); code != 11 || !strings.Contains(stderr, "no-such-model.gguf") {
		t.Errorf("missing model: exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed builds left %v", entries)
	}
}

// TestBuildQuantMatchesRun: --quant q8_0 gives an executable that prints
// what omexc run prints with --quant q8_0 on the same input, and says so in
// --version; --emit=ir writes the optimized IR beside it.
func TestBuildQuantMatchesRun(t *testing.T) {
	exePath := buildStory(t, "--quant", "q8_0", "--emit", "ir")
	root := repoRoot(t)
	args := []string{"-p", "Once upon a time", "-n", "120", "--temp", "0"}
	want, stderr, code := omexc(t, root, runArgs(append(args, "--quant", "q8_0")...)...)
	if code != 0 {
		t.Fatalf("omexc run: exit %d: %s", code, stderr)
	}
	out, stderr, code := runExe(t, t.TempDir(), "", exePath, args...)
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\n got %q\nwant %q", code, stderr, out, want)
	}
	if v, _, _ := runExe(t, root, "", exePath, "--version"); !strings.Contains(v, "quantization: q8_0 (weights: 16 f32, 31 q8_0)") {
		t.Errorf("--version: %s", v)
	}
	if ir, err := os.ReadFile(exePath + ".ir"); err != nil || !strings.Contains(string(ir), "q8_0[64,64]") {
		t.Errorf("--emit=ir: %v", err)
	}
}

// TestBuildTinyStories: the f32 safetensors checkpoint's executable
// reproduces the Hugging Face reference's 48 greedy tokens (as text), and
// the Q8_0 GGUF's executable prints what omexc run prints for it.
func TestBuildTinyStories(t *testing.T) {
	dir := testfiles.SharedFile(t, "models/tinystories-656k")
	root := repoRoot(t)
	golden, err := os.ReadFile(testfiles.SharedFile(t, "golden/tinystories-656k.pyref_hf_f32.once_upon.greedy48.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var wantText string
	for _, line := range strings.Split(string(golden), "\n") {
		if q, ok := strings.CutPrefix(line, "text "); ok {
			wantText = unquotePython(t, q)
		}
	}
	tmp := t.TempDir()
	for _, c := range []struct{ input, out string }{{dir, "ts"}, {filepath.Join(dir, "tinystories-656k-q8_0.gguf"), "tsq8"}} {
		if _, stderr, code := omexc(t, root, "build", c.input, "-o", filepath.Join(tmp, c.out)); code != 0 {
			t.Fatalf("build %s: exit %d: %s", c.input, code, stderr)
		}
	}
	out, stderr, code := runExe(t, tmp, "", filepath.Join(tmp, "ts"), "-p", "Once upon a time", "-n", "48", "--temp", "0", "--no-echo")
	if code != 0 || out != wantText+"\n" {
		t.Fatalf("f32: exit %d, stderr %q\n got %q\nwant %q", code, stderr, out, wantText)
	}
	args := []string{"-p", "Once upon a time", "-n", "80", "--temp", "0"}
	want, stderr, code := omexc(t, root, append([]string{"run", filepath.Join(dir, "tinystories-656k-q8_0.gguf")}, args...)...)
	if code != 0 {
		t.Fatalf("omexc run: exit %d: %s", code, stderr)
	}
	if out, stderr, code := runExe(t, tmp, "", filepath.Join(tmp, "tsq8"), args...); code != 0 || out != want {
		t.Fatalf("q8_0: exit %d, stderr %q\n got %q\nwant %q", code, stderr, out, want)
	}
}

// unquotePython reads a Python repr of a str in single quotes.
func unquotePython(t *testing.T, q string) string {
	t.Helper()
	inner, ok := strings.CutPrefix(strings.TrimSpace(q), "'")
	inner, ok2 := strings.CutSuffix(inner, "'")
	if !ok || !ok2 {
		t.Fatalf("not a quoted string: %s", q)
	}
	inner = strings.ReplaceAll(strings.ReplaceAll(inner, `\'`, `'`), `"`, `\"`)
	s, err := strconv.Unquote(`"` + inner + `"`)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

// emulator finds qemu-user for goarch (Debian's qemu-user-static names
// both qemu-ARCH and qemu-ARCH-static), or "".
func emulator(goarch string) string {
	arch := map[string]string{"arm64": "aarch64", "riscv64": "riscv64"}[goarch]
	for _, name := range []string{"qemu-" + arch, "qemu-" + arch + "-static"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBuildCross: --target=arm64-neon and --target=generic --goarch=riscv64
// build; under qemu-user, when installed, they print what the host
// executable prints.
func TestBuildCross(t *testing.T) {
	host := buildStory(t)
	want, _, _ := runExe(t, t.TempDir(), "", host, storyGreedy...)
	for _, c := range []struct {
		goarch string
		flags  []string
	}{
		{"arm64", []string{"--target", "arm64-neon", "--goos", "linux"}},
		{"riscv64", []string{"--target", "generic", "--goarch", "riscv64", "--goos", "linux"}},
	} {
		exePath := buildStory(t, c.flags...)
		emu := emulator(c.goarch)
		if emu == "" {
			t.Logf("qemu for %s not installed (apt-get install qemu-user-static): built, not run", c.goarch)
			continue
		}
		out, stderr, code := runExe(t, t.TempDir(), emu, exePath, storyGreedy...)
		if code != 0 || out != want {
			t.Fatalf("%s under %s: exit %d, stderr %q\n got %q\nwant %q", c.goarch, emu, code, stderr, out, want)
		}
		if v, _, _ := runExe(t, t.TempDir(), emu, exePath, "--version"); !strings.Contains(v, "(linux/"+c.goarch) {
			t.Errorf("%s --version: %s", c.goarch, v)
		}
	}
	if emulator("arm64") == "" || emulator("riscv64") == "" {
		t.Skip("qemu-user not installed: the cross executables were built but not run (apt-get install qemu-user-static)")
	}
}

// TestReadmeBuildDemo runs the README's first command: build the bundled
// model for this machine, then run the executable it wrote.
func TestReadmeBuildDemo(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "# 1.")
	lines := strings.SplitN(rest, "\n", 3)
	if !ok || len(lines) < 2 {
		t.Fatal("the README has no first command")
	}
	build, run, ok := strings.Cut(lines[1], " && ")
	buildArgs, exeArgs := shellWords(t, build), shellWords(t, run)
	if !ok || len(buildArgs) < 4 || strings.Join(buildArgs[:4], " ") != "go run ./cmd/omexc build" || len(exeArgs) == 0 {
		t.Fatalf("the README's first command is not `go run ./cmd/omexc build ... && ./EXE ...`: %q", lines[1])
	}
	// Write the executable to a temporary directory instead of the checkout.
	args := buildArgs[3:]
	dir := t.TempDir()
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) && "./"+args[i+1] == exeArgs[0] {
			args[i+1] = filepath.Join(dir, args[i+1])
		}
	}
	if _, stderr, code := omexc(t, root, args...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	out, stderr, code := runExe(t, dir, "", filepath.Join(dir, strings.TrimPrefix(exeArgs[0], "./")), exeArgs[1:]...)
	if code != 0 || !strings.HasPrefix(out, "Once upon a time, there was a little girl named Lily.") {
		t.Fatalf("%v: exit %d: %q %s", exeArgs, code, out, stderr)
	}
}

// shellWords splits a command line at spaces, keeping double-quoted words
// whole (all the README's commands need).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			words, s = append(words, s[1:end+1]), s[end+2:]
			continue
		}
		w, rest, _ := strings.Cut(s, " ")
		words, s = append(words, w), rest
	}
	return words
}

// TestBuildLLVMBackend: --backend=llvm links kernels compiled by llc into
// the executable (no cgo), which then prints run.c's story byte for byte,
// as the Go-assembly build does; --emit=llvm writes the .ll, which llc
// accepts. Skips without llc (Debian's llvm package).
func TestBuildLLVMBackend(t *testing.T) {
	if _, err := exec.LookPath("llc"); err != nil {
		t.Skip("llc is not installed (apt-get install llvm); --backend=llvm needs it")
	}
	if isa, _ := goasm.ForTarget(targets.Host()); isa == goasm.Generic {
		t.Skip("this host's target runs the reference runtime: no kernels for LLVM")
	}
	exePath := buildStory(t, "--backend", "llvm", "--emit", "llvm")
	out, stderr, code := runExe(t, t.TempDir(), "", exePath, storyGreedy...)
	if code != 0 || out != goldenStory(t) {
		t.Fatalf("exit %d, stderr %q\n got %q", code, stderr, out)
	}
	if v, _, _ := runExe(t, t.TempDir(), "", exePath, "--version"); !strings.Contains(v, "backend:      llvm") {
		t.Fatalf("--version does not name the llvm backend:\n%s", v)
	}
	ll := exePath + ".ll"
	if _, err := os.Stat(ll); err != nil {
		t.Fatalf("--emit=llvm wrote no %s: %v", ll, err)
	}
	obj := filepath.Join(t.TempDir(), "k.o")
	if b, err := exec.Command("llc", "-opaque-pointers", "-O2", "-filetype=obj", ll, "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("llc rejects the emitted IR: %v\n%s", err, b)
	}
	if _, stderr, code := omexc(t, repoRoot(t), append(append([]string{}, storyArgs...), "-o", filepath.Join(t.TempDir(), "x"), "--backend", "nope")...); code != 11 {
		t.Fatalf("--backend=nope: exit %d, want 11: %s", code, stderr)
	}
}

package exe

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
)

var testFacts = Facts{
	Compiler: "0.1.0-test", Target: "generic", GOOS: "linux", GOARCH: "amd64", Level: "GOAMD64=v1",
	Backend: "reference", Model: "stories260K", ModelSHA256: strings.Repeat("ab", 32), Quant: "f32", WeightTypes: "47 f32",
	Flags: []string{"--target=generic", "--quant=f32"},
	Plan:  []PlanFunc{{Name: "prefill", Instructions: 60, ArenaBytes: 1 << 20}, {Name: "decode", Instructions: 58, ArenaBytes: 4096}},
}

// program writes the bundled model as a fake executable and returns the
// program that reads it.
func program(t *testing.T) Program {
	t.Helper()
	return Program{Name: "story", Facts: testFacts, NewModel: Reference, Path: writeBundleFile(t, bundleBytes(t, 5000, 16384, loadStories(t)))}
}

func runProgram(t *testing.T, p Program, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), p, args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestRunMatchesRunC: the program prints llama2.c run.c's 256-position
// greedy story byte for byte from its mapped weights (compared with the
// shared golden when it is there, and always with the reference runtime
// built straight from the checkpoint).
func TestRunMatchesRunC(t *testing.T) {
	p := program(t)
	out, stderr, code := runProgram(t, p, "-p", "Once upon a time", "-n", "252", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := loadStories(t)
	m, err := model.New(s.cfg, s.get)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustTokenizer(t, s)
	var want bytes.Buffer
	opt := generate.Options{MaxTokens: 252}
	opt.Sampling.TopP, opt.Sampling.RepetitionPenalty = 1, 1
	if _, err := generate.Run(context.Background(), generate.Reference(m), tok, "Once upon a time", opt, &want); err != nil {
		t.Fatal(err)
	}
	if out != want.String()+"\n" {
		t.Fatalf("the program printed\n%q\nthe reference runtime\n%q", out, want.String())
	}
	path, err := testfiles.SharedPath("golden/stories260K.run_c.once_upon.t0.n256.txt")
	if err != nil {
		t.Logf("shared golden not found (%v); compared with the reference runtime only", err)
		return
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(golden) {
		t.Fatalf("output differs from run.c:\n got %q\nwant %q", out, golden)
	}
}

// TestDecodeAllocatesNothing: once the prompt is in, each decode step of
// the produced program's model allocates nothing.
func TestDecodeAllocatesNothing(t *testing.T) {
	p := program(t)
	b, err := Open(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := p.NewModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Prefill([]int{1, 403, 407, 261, 378}, 0); err != nil {
		t.Fatal(err)
	}
	pos := 5
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := m.Decode(378, pos); err != nil {
			t.Fatal(err)
		}
		pos++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per decoded token", allocs)
	}
}

// TestRunFlags: --version, --help and --info work and say what they
// should; mistakes exit 2 (usage) or 11 (InputError) as omexc does.
func TestRunFlags(t *testing.T) {
	p := program(t)
	out, _, code := runProgram(t, p, "--version")
	for _, want := range []string{"omexc 0.1.0-test", "generic (linux/amd64, GOAMD64=v1)", "stories260K", strings.Repeat("ab", 32), "quantization: f32 (weights: 47 f32)", "--target=generic --quant=f32"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--version: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	out, _, code = runProgram(t, p, "--help")
	if code != 0 || !strings.Contains(out, "--top-p") || !strings.Contains(out, "Exit status") {
		t.Errorf("--help: exit %d:\n%s", code, out)
	}
	out, stderr, code := runProgram(t, p, "--info")
	var in info
	if err := json.Unmarshal([]byte(out), &in); err != nil || code != 0 {
		t.Fatalf("--info: exit %d, %v: %s %s", code, err, out, stderr)
	}
	if in.Context != 512 || in.Vocab != 512 || in.Tensors != 47 || in.WeightBytes <= 0 || in.ArenaBytes != 1<<20 || len(in.Plan) != 2 || in.Plan[1].Name != "decode" || !in.Mapped || in.KVCacheBytes != 2*4*5*512*32 {
		t.Errorf("--info: %+v", in)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"-n", "x"}, 2, "-n"},
		{[]string{"--temp", "hot"}, 2, "temp"},
		{[]string{"--seed", "1.5"}, 2, "seed"},
		{[]string{"extra"}, 2, "extra"},
		{[]string{"-n", "-1"}, 11, "-n"},
		{[]string{"--top-p", "3"}, 11, "top-p"},
		{[]string{"-t", "-2"}, 11, "threads"},
		{[]string{"--threads", "x"}, 2, "threads"},
		{[]string{"-p", strings.Repeat("Once upon a time. ", 200)}, 11, "512"},
	} {
		_, stderr, code := runProgram(t, p, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || !strings.HasPrefix(stderr, "story: ") {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %s", c.args, code, stderr, c.code, c.says)
		}
	}
}

// TestRunSamplingAndStop: a fixed seed repeats its text, --stop ends the
// text before the stop sequence and --no-echo leaves the prompt out.
func TestRunSamplingAndStop(t *testing.T) {
	p := program(t)
	a, _, _ := runProgram(t, p, "-p", "Once upon a time", "-n", "40", "--seed", "7")
	b, _, _ := runProgram(t, p, "-p", "Once upon a time", "-n", "40", "--seed", "7")
	if a != b || !strings.HasPrefix(a, "Once upon a time") {
		t.Fatalf("the same seed gave\n%q\n%q", a, b)
	}
	out, _, code := runProgram(t, p, "-p", "Once upon a time", "-n", "100", "--temp", "0", "--stop", "Lily", "--no-echo")
	if code != 0 || out != ", there was a little girl named \n" {
		t.Fatalf("--stop/--no-echo: exit %d, %q", code, out)
	}
}

// TestRunBadExecutable: a program whose file lost its end is a ModelError
// (exit 12) naming the file and an offset; --version still works.
func TestRunBadExecutable(t *testing.T) {
	p := program(t)
	b, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path, b[:len(b)-100], 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runProgram(t, p, "-p", "x")
	if code != 12 || !strings.Contains(stderr, p.Path) || !strings.Contains(stderr, "offset") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if out, _, code := runProgram(t, p, "--version"); code != 0 || !strings.Contains(out, "stories260K") {
		t.Fatalf("--version on a damaged file: exit %d", code)
	}
	if !slices.Contains([]int{12}, func() int { _, _, c := runProgram(t, p, "--info"); return c }()) {
		t.Fatal("--info on a damaged file should be a ModelError")
	}
}

// TestRunTimings: --timings adds one key=value line to stderr with the
// token counts of the generation and its rates, and changes nothing on
// stdout.
func TestRunTimings(t *testing.T) {
	p := program(t)
	plain, _, _ := runProgram(t, p, "-p", "Once upon a time", "-n", "20", "--temp", "0")
	out, stderr, code := runProgram(t, p, "-p", "Once upon a time", "-n", "20", "--temp", "0", "--timings")
	if code != 0 || out != plain {
		t.Fatalf("exit %d; stdout with --timings differs:\n%q\n%q", code, out, plain)
	}
	line, ok := strings.CutPrefix(strings.TrimSpace(stderr), "timings: ")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("stderr is not one timings line: %q", stderr)
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = v
	}
	// "Once upon a time" is BOS + 4 tokens; 20 generated tokens take 19
	// Decode calls (the last token's logits are not needed).
	if kv["prompt_tokens"] != "5" || kv["decode_tokens"] != "19" || kv["stop"] != "max_tokens" {
		t.Errorf("counts: %v", kv)
	}
	for _, k := range []string{"prompt_ms", "prompt_tok_s", "decode_ms", "decode_tok_s", "first_token_ms"} {
		if v, err := strconv.ParseFloat(kv[k], 64); err != nil || v <= 0 {
			t.Errorf("%s = %q, want a positive number", k, kv[k])
		}
	}
}

// TestRunThreads: -t sets GOMAXPROCS before the model is built (its pool
// is sized from it) and changes no output.
func TestRunThreads(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	p := program(t)
	plain, _, _ := runProgram(t, p, "-p", "Once upon a time", "-n", "30", "--temp", "0")
	out, stderr, code := runProgram(t, p, "-p", "Once upon a time", "-n", "30", "--temp", "0", "-t", "1")
	if code != 0 || out != plain {
		t.Fatalf("exit %d (%s); -t 1 changed the text:\n%q\n%q", code, stderr, out, plain)
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("GOMAXPROCS after -t 1 is %d", n)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bundled is the demo model's command-line arguments.
var bundled = []string{"testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin"}

func runArgs(extra ...string) []string {
	return append(append([]string{"run"}, bundled...), extra...)
}

// TestRunIRPathMatchesRunC: `omexc run` (the IR path with the full
// pipeline) prints llama2.c run.c's greedy story byte for byte, and so does
// --reference.
func TestRunIRPathMatchesRunC(t *testing.T) {
	root := repoRoot(t)
	golden, err := os.ReadFile(filepath.Join(root, "..", "shared", "testdata", "golden", "stories260K.run_c.once_upon.t0.n256.txt"))
	if err != nil {
		t.Skipf("shared golden not found: %v", err)
	}
	for _, extra := range [][]string{nil, {"--reference"}} {
		// run.c's -n 256 counts positions: BOS + 4 prompt tokens + 252 generated.
		out, stderr, code := omexc(t, root, runArgs(append([]string{"-p", "Once upon a time", "--temp", "0", "-n", "252"}, extra...)...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
		if out != string(golden) {
			t.Fatalf("%v: output differs from run.c:\n got %q\nwant %q", extra, out, golden)
		}
	}
}

// TestRunPassFlags: run accepts compile's pass flags, the passes do not
// change the tokens, and --reference refuses them.
func TestRunPassFlags(t *testing.T) {
	root := repoRoot(t)
	base := []string{"-p", "Once upon a time", "--temp", "0", "-n", "30"}
	want, stderr, code := omexc(t, root, runArgs(base...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dump := t.TempDir()
	out, stderr, code := omexc(t, root, runArgs(append(base, "--dump-dir", dump, "--time-passes", "--metrics")...)...)
	if code != 0 || out != want {
		t.Fatalf("with pass flags: exit %d, output %q, want %q: %s", code, out, want, stderr)
	}
	files, _ := os.ReadDir(dump)
	if len(files) < 2 || !strings.Contains(stderr, "total") || !strings.Contains(stderr, "tokens/s") {
		t.Errorf("--dump-dir wrote %d files; stderr %q", len(files), stderr)
	}
	// With every optional pass off the module runs unoptimized: same tokens.
	var optional []string
	list, _, _ := omexc(t, root, "compile", "--list-passes")
	for _, line := range strings.Split(list, "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 3 && f[2] != "required" {
			optional = append(optional, f[1])
		}
	}
	if len(optional) > 0 {
		out, stderr, code = omexc(t, root, runArgs(append(base, "--disable-pass", strings.Join(optional, ","))...)...)
		if code != 0 || out != want {
			t.Fatalf("--disable-pass %v: exit %d, output %q, want %q: %s", optional, code, out, want, stderr)
		}
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--reference", "--disable-pass", "cse"}, "--disable-pass"},
		{[]string{"--disable-pass", "no-such-pass"}, "--disable-pass"},
		{[]string{"--quant", "q3"}, "--quant"},
	} {
		_, stderr, code := omexc(t, root, runArgs(append(base, c.args...)...)...)
		if code != 11 || !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 11 naming %s", c.args, code, stderr, c.flag)
		}
	}
}

// TestCompileModel: omexc compile lowers a model (not only IR text) and
// writes the optimized module, which parses back as the same text.
func TestCompileModel(t *testing.T) {
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "s.ir")
	_, stderr, code := omexc(t, root, append(append([]string{"compile"}, bundled...), "-o", out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{`module "stories260K"`, "dim ctx = 512", "state @kv.4.v : f32[ctx,32]", "func @prefill(%tokens: i32[seq], %pos: i32[])", "func @decode(%token: i32[1], %pos: i32[])"} {
		if !strings.Contains(text, want) {
			t.Errorf("compiled IR lacks %q", want)
		}
	}
	// The written IR is a valid module: compiling it again works.
	if _, stderr, code := omexc(t, root, "compile", out, "-o", out+".2"); code != 0 {
		t.Fatalf("recompiling the output: exit %d: %s", code, stderr)
	}
}

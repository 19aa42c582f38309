package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeDemo runs the README's first command on the bundled model.
func TestReadmeDemo(t *testing.T) {
	root := repoRoot(t)
	out, stderr, code := omexc(t, root, "run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", "Once upon a time", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "Once upon a time, there was a little girl named Lily.") {
		t.Fatalf("unexpected story: %q", out)
	}
}

// TestImportVerifyTamper imports the bundled model, verifies the package,
// then breaks it two ways and checks verify names the broken file.
func TestImportVerifyTamper(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	pkg := filepath.Join(tmp, "s.omex")
	if _, stderr, code := omexc(t, root, "import", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-o", pkg); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	if out, stderr, code := omexc(t, root, "verify", pkg); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("verify of a fresh package: exit %d: %s %s", code, out, stderr)
	}
	// A second import to the same place is refused without --force.
	if _, _, code := omexc(t, root, "import", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-o", pkg); code != 11 {
		t.Fatalf("import over an existing package: exit %d, want 11 (InputError)", code)
	}

	weight := filepath.Join(pkg, "weights", "layer_2.bin")
	b, err := os.ReadFile(weight)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(weight, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := omexc(t, root, "verify", pkg)
	if code != 12 || !strings.Contains(stderr, "weights/layer_2.bin") {
		t.Fatalf("verify after flipping a byte: exit %d, stderr %q; want 12 naming weights/layer_2.bin", code, stderr)
	}
	b[len(b)/2] ^= 0x01
	os.WriteFile(weight, b, 0o644)
	if _, stderr, code := omexc(t, root, "verify", pkg); code != 0 {
		t.Fatalf("verify after restoring the byte: exit %d: %s", code, stderr)
	}

	os.Remove(filepath.Join(pkg, "tokenizer", "vocab.txt"))
	_, stderr, code = omexc(t, root, "verify", pkg)
	if code != 12 || !strings.Contains(stderr, "tokenizer/vocab.txt") {
		t.Fatalf("verify with a missing file: exit %d, stderr %q; want 12 naming tokenizer/vocab.txt", code, stderr)
	}
}

// TestBadInputsExitByCategory checks the exit status per error category and
// that a failed import leaves nothing behind.
func TestBadInputsExitByCategory(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	full, err := os.ReadFile(filepath.Join(root, "testdata/stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(tmp, "trunc.bin")
	os.WriteFile(trunc, full[:len(full)/3], 0o644)
	out := filepath.Join(tmp, "out.omex")
	_, stderr, code := omexc(t, root, "import", trunc, "--tokenizer", "testdata/stories260K/tok512.bin", "-o", out)
	if code != 12 || !strings.Contains(stderr, "trunc.bin") || !strings.Contains(stderr, "offset") {
		t.Fatalf("truncated checkpoint: exit %d, stderr %q; want 12 with file and offset", code, stderr)
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 1 {
		t.Fatalf("a failed import left files behind: %v", entries)
	}

	cases := []struct {
		name string
		args []string
		code int
	}{
		{"missing file", []string{"run", "no-such-model.gguf", "-p", "x"}, 11},
		{"no tokenizer for llama2.c", []string{"run", "testdata/stories260K/stories260K.bin", "-p", "x"}, 11},
		{"bad top-p", []string{"run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "--top-p", "3"}, 11},
		{"prompt too long", []string{"run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", strings.Repeat("Once upon a time. ", 200)}, 11},
		{"unknown flag", []string{"run", "--no-such-flag"}, 2},
		{"bad token id", []string{"detokenize", "testdata/stories260K/tok512.bin", "9999"}, 11},
	}
	for _, c := range cases {
		_, stderr, code := omexc(t, root, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", c.name, code, c.code, stderr)
		}
		if c.name == "prompt too long" && !strings.Contains(stderr, "512") {
			t.Errorf("prompt too long: the error should name the context length: %q", stderr)
		}
	}
}

// TestTokenizeDetokenize round-trips a text through the CLI.
func TestTokenizeDetokenize(t *testing.T) {
	root := repoRoot(t)
	out, stderr, code := omexc(t, root, "tokenize", "testdata/stories260K/tok512.bin", "--ids", "Once upon a time")
	if code != 0 || strings.TrimSpace(out) != "1 403 407 261 378" {
		t.Fatalf("tokenize: exit %d, out %q, stderr %q", code, out, stderr)
	}
	out, _, code = omexc(t, root, "detokenize", "testdata/stories260K/tok512.bin", "1 403 407 261 378")
	if code != 0 || strings.TrimSpace(out) != "Once upon a time" {
		t.Fatalf("detokenize: exit %d, out %q", code, out)
	}
}

// TestMetricsTimePerOp: on the IR path --metrics-json reports the time per
// op kind; the reference path has no ops to report.
func TestMetricsTimePerOp(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	base := []string{"run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", "Once", "-n", "8", "--temp", "0"}
	for _, c := range []struct {
		name  string
		extra []string
		ops   bool
	}{{"ir", nil, true}, {"reference", []string{"--reference"}, false}} {
		file := filepath.Join(tmp, c.name+".json")
		if _, stderr, code := omexc(t, root, append(append(base, c.extra...), "--metrics-json", file)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			OpTimes []struct {
				Op    string  `json:"op"`
				Calls int     `json:"calls"`
				MS    float64 `json:"ms"`
			} `json:"op_times"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		hasAttention := false
		for _, o := range m.OpTimes {
			hasAttention = hasAttention || (o.Op == "attention" && o.Calls > 0)
		}
		if hasAttention != c.ops {
			t.Fatalf("%s: op times %+v; want attention reported: %v", c.name, m.OpTimes, c.ops)
		}
	}
}

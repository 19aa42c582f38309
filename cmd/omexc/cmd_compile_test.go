package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compileInput is a small valid module in IR text.
const compileInput = `module "tiny"
weight @norm : f32[8]
weight @w : f32[8,8]

func @f(%x: f32[seq,8]) -> f32[seq,8] {
  %a = rmsnorm %x, @norm {eps=1e-05} : f32[seq,8]
  %b = matmul %a, @w : f32[seq,8]
  %c = add %a, %b : f32[seq,8]
  return %c
}
`

// TestCompileIR compiles an IR text file with every output and dump flag,
// and checks the files and the exit status.
func TestCompileIR(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "tiny.ir")
	if err := os.WriteFile(in, []byte(compileInput), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := omexc(t, dir, "compile", "tiny.ir")
	if code != 0 || !strings.HasPrefix(stdout, `module "tiny"`) || !strings.Contains(stdout, "%c = matmul_add %a, %a, @w : f32[seq,8]") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = omexc(t, dir, "compile", "tiny.ir", "-o", "out.ir", "--dump-dir", "dump", "--dump-html", "p.html", "--time-passes", "--quant", "q8_0")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "total") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out.ir"))
	if err != nil || !strings.HasPrefix(string(out), `module "tiny"`) {
		t.Errorf("-o: %v %q", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "dump", "00-input.ir")); err != nil || !strings.HasPrefix(string(b), `module "tiny"`) || !strings.Contains(string(b), "rmsnorm %x, @norm") {
		t.Errorf("--dump-dir: %v %q", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "p.html")); err != nil || !strings.Contains(string(b), `<span class="pass-name">input</span>`) {
		t.Errorf("--dump-html: %v", err)
	}
	if stdout, _, code := omexc(t, dir, "compile", "--list-passes"); code != 0 || !strings.Contains(stdout, "description") {
		t.Errorf("--list-passes: exit %d: %s", code, stdout)
	}
}

// TestCompileBadInput checks that mistakes are InputErrors (exit 11) that
// name the flag or the place at fault, and leave no output file.
func TestCompileBadInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tiny.ir"), []byte(compileInput), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.ir"), []byte(strings.Replace(compileInput, "matmul %a", "matmul %zz", 1)), 0o644)
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"tiny.ir", "--disable-pass", "no-such-pass"}, "--disable-pass"},
		{[]string{"tiny.ir", "--print-after", "no-such-pass"}, "no-such-pass"},
		{[]string{"tiny.ir", "--emit", "obj"}, "--emit"},
		{[]string{"tiny.ir", "--quant", "q3_k"}, "q8_0"},
		{[]string{"bad.ir"}, "bad.ir"},
		{[]string{"missing.ir"}, "missing.ir"},
	}
	for _, c := range cases {
		args := append([]string{"compile", "-o", "out.ir"}, c.args...)
		_, stderr, code := omexc(t, dir, args...)
		if code != 11 || !strings.Contains(stderr, "InputError") || !strings.Contains(stderr, c.mention) {
			t.Errorf("%v: exit %d, stderr %q; want 11 mentioning %s", c.args, code, stderr, c.mention)
		}
		if _, err := os.Stat(filepath.Join(dir, "out.ir")); err == nil {
			t.Errorf("%v: a failed compile left an output file", c.args)
			os.Remove(filepath.Join(dir, "out.ir"))
		}
	}
	if _, _, code := omexc(t, dir, "compile"); code != 2 {
		t.Errorf("compile without MODEL: exit %d, want 2", code)
	}
}

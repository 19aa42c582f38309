package link

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend/llama2c"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/exe"
	"github.com/omex-dev/omex/targets"
)

// TestBuildModuleIsSelfContained: the module a build writes holds every
// package its files import from our module, requires exactly the third-party
// modules they import, carries their go.sum lines and no test files or
// testdata.
func TestBuildModuleIsSelfContained(t *testing.T) {
	mod, err := newBuildModule(map[string][]byte{"main.go": []byte("package main\n\nimport _ \"github.com/omex-dev/omex/runtime/exe\"\n\nfunc main() {}\n")})
	if err != nil {
		t.Fatal(err)
	}
	for p := range mod {
		if strings.HasSuffix(p, "_test.go") || strings.Contains(p, "testdata/") {
			t.Errorf("the build module holds %s", p)
		}
	}
	for _, want := range []string{"runtime/exe/main.go", "runtime/model/model.go", "runtime/tokenizer/spec.go", "tensor/tensor.go", "omexerr/errors.go"} {
		if mod[want] == nil {
			t.Errorf("the build module lacks %s", want)
		}
	}
	gomod := string(mod["go.mod"])
	if !strings.HasPrefix(gomod, "module github.com/omex-dev/omex\n\ngo ") || !strings.Contains(gomod, "github.com/dlclark/regexp2 ") ||
		!strings.Contains(gomod, "golang.org/x/text ") || strings.Contains(gomod, "cobra") {
		t.Errorf("go.mod:\n%s", gomod)
	}
	sum := strings.Split(strings.TrimSpace(string(mod["go.sum"])), "\n")
	if len(sum) != 4 {
		t.Errorf("go.sum has %d lines, want the module and go.mod hashes of two modules:\n%s", len(sum), strings.Join(sum, "\n"))
	}
	// An import nobody provides is refused before go build runs.
	_, err = newBuildModule(map[string][]byte{"gen/x/x.go": []byte("package x\n\nimport _ \"github.com/omex-dev/omex/passes\"\n")})
	if omexerr.CategoryOf(err) != omexerr.Configuration || !strings.Contains(err.Error(), "passes") {
		t.Errorf("import of a compiler package: %v", err)
	}
	_, err = newBuildModule(map[string][]byte{"gen/x/x.go": []byte("package x\n\nimport _ \"example.com/nothing\"\n")})
	if omexerr.CategoryOf(err) != omexerr.Configuration || !strings.Contains(err.Error(), "example.com/nothing") {
		t.Errorf("import of an unknown module: %v", err)
	}
}

// TestParseGoMod reads both require forms and refuses what it does not
// understand.
func TestParseGoMod(t *testing.T) {
	m, err := parseGoMod("module a/b // c\n\ngo 1.26.0\ntoolchain go1.26.1\nrequire x.org/y v1.0.0\nrequire (\n\tx.org/z v0.2.0 // indirect\n)\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Module != "a/b" || m.Go != "1.26.0" || m.Requires["x.org/y"] != "v1.0.0" || m.Requires["x.org/z"] != "v0.2.0" {
		t.Fatalf("%+v", m)
	}
	if mod, ok := m.moduleOf("x.org/z/sub/pkg"); !ok || mod != "x.org/z" {
		t.Errorf("moduleOf: %q %v", mod, ok)
	}
	if _, ok := m.moduleOf("x.org/zz"); ok {
		t.Error("x.org/zz is not in x.org/z")
	}
	if got := m.render([]string{"x.org/z"}); got != "module a/b\n\ngo 1.26.0\n\nrequire (\n\tx.org/z v0.2.0\n)\n" {
		t.Errorf("render: %q", got)
	}
	if got := m.filterGoSum("x.org/z v0.2.0 h1:a=\nx.org/z v0.2.0/go.mod h1:b=\nx.org/z v0.1.0 h1:c=\nx.org/y v1.0.0 h1:d=\n", []string{"x.org/z"}); got != "x.org/z v0.2.0 h1:a=\nx.org/z v0.2.0/go.mod h1:b=\n" {
		t.Errorf("filterGoSum: %q", got)
	}
	for _, bad := range []string{"", "module a\n", "module a\ngo 1.26\nreplace x => y\n"} {
		if _, err := parseGoMod(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestMainSource: the generated main is formatted Go that calls exe.Main
// with the facts, the same facts give the same bytes, and a generated
// model package is imported and used.
func TestMainSource(t *testing.T) {
	f := exe.Facts{Compiler: "v", Target: "generic", GOOS: "linux", GOARCH: "riscv64", Model: `a "quoted" name`, Flags: []string{"--quant=f32"},
		Plan: []exe.PlanFunc{{Name: "decode", Instructions: 3, ArenaBytes: 64}}}
	a, err := mainSource(f, ModelCtor{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mainSource(f, ModelCtor{})
	if !slices.Equal(a, b) {
		t.Fatal("the same facts gave two mains")
	}
	src := string(a)
	for _, want := range []string{`Model:       "a \"quoted\" name"`, `{Name: "decode", Instructions: 3, ArenaBytes: 64}`, "}, exe.Reference)", "DO NOT EDIT"} {
		if !strings.Contains(src, want) {
			t.Errorf("main lacks %s:\n%s", want, src)
		}
	}
	gen, err := mainSource(f, ModelCtor{Package: "github.com/omex-dev/omex/gen/model", Func: "New"})
	if err != nil {
		t.Fatal(err)
	}
	file, err := parser.ParseFile(token.NewFileSet(), "main.go", gen, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Imports) != 2 || !strings.Contains(string(gen), "genmodel.New)") {
		t.Errorf("generated-model main:\n%s", gen)
	}
}

// TestBuildEnv: the variables that change what go build produces come from
// the target, never from the user's environment.
func TestBuildEnv(t *testing.T) {
	t.Setenv("GOFLAGS", "-race")
	t.Setenv("GOAMD64", "v4")
	t.Setenv("CGO_ENABLED", "1")
	t.Setenv("GOWORK", "/tmp/go.work")
	tg, err := targets.Generic("linux", "riscv64")
	if err != nil {
		t.Fatal(err)
	}
	env := buildEnv(tg)
	get := func(k string) []string {
		var vs []string
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}
	for k, want := range map[string]string{"GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0", "GOWORK": "off", "GOOS": "linux", "GOARCH": "riscv64", "GORISCV64": "rva20u64"} {
		if got := get(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
	if got := get("GOAMD64"); len(got) != 0 {
		t.Errorf("GOAMD64 leaked into a riscv64 build: %v", got)
	}
}

// TestBuildFailures: no Go toolchain is a ConfigurationError saying what to
// install; code that does not compile is an ExecutionError with the
// compiler's message; neither leaves an output file.
func TestBuildFailures(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "prog")
	r := Request{Target: targets.Host(), Output: out, GoCmd: "no-such-go-toolchain"}
	_, err := Build(context.Background(), r)
	if omexerr.CategoryOf(err) != omexerr.Configuration || !strings.Contains(err.Error(), "go.dev/dl") {
		t.Fatalf("missing toolchain: %v", err)
	}
	if testing.Short() {
		t.Skip("-short: not running go build")
	}
	r.GoCmd = ""
	r.Generated = map[string][]byte{"gen/bad/bad.go": []byte("package bad\n\nimport \"github.com/omex-dev/omex/runtime/exe\"\n\nvar New exe.NewModel = 42\n")}
	r.Ctor = ModelCtor{Package: "github.com/omex-dev/omex/gen/bad", Func: "New"}
	_, err = Build(context.Background(), r)
	if omexerr.CategoryOf(err) != omexerr.Execution || !strings.Contains(err.Error(), "gen/bad/bad.go") {
		t.Fatalf("broken generated code: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed build left %v", entries)
	}
}

// TestBuildWritesBundle: a successful build writes an executable file whose
// sha256 and size are the ones reported, whose weights start aligned after
// the program, and which opens as a bundle holding the tensors given.
func TestBuildWritesBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running go build")
	}
	td := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	src, err := llama2c.Open(filepath.Join(td, "stories260K.bin"), filepath.Join(td, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := Weights{Model: "stories260K", Config: src.Config(), Tokenizer: src.Tokenizer(), Read: src.ReadTensor}
	for _, info := range src.Tensors() {
		w.Tensors = append(w.Tensors, TensorRef{Name: info.Name})
	}
	out := filepath.Join(t.TempDir(), "story")
	res, err := Build(context.Background(), Request{Target: targets.Host(), Output: out, Weights: w, Facts: exe.Facts{Model: "stories260K"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	st, _ := os.Stat(out)
	if hex.EncodeToString(sum[:]) != res.SHA256 || int64(len(b)) != res.Size || st.Mode().Perm() != 0o755 {
		t.Fatalf("reported %d bytes sha256 %s; file has %d bytes sha256 %x, mode %v", res.Size, res.SHA256, len(b), sum, st.Mode())
	}
	bd, err := exe.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer bd.Close()
	if off := bd.Trailer.WeightsOff; off%DefaultAlign != 0 || off < uint64(res.ProgramBytes) || off >= uint64(res.ProgramBytes)+DefaultAlign || int64(bd.Trailer.WeightsLen) != res.WeightBytes {
		t.Errorf("weights at %d (+%d) after a program of %d bytes; reported weights %d", off, bd.Trailer.WeightsLen, res.ProgramBytes, res.WeightBytes)
	}
	if len(bd.Index.Tensors) != len(w.Tensors) || bd.Index.Model != "stories260K" {
		t.Errorf("the bundle holds %d tensors of %q", len(bd.Index.Tensors), bd.Index.Model)
	}
}

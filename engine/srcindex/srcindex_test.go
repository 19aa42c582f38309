package srcindex

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

func TestBuildIndexesProjectPackage(t *testing.T) {
	ix, err := Build(context.Background(), filepath.Join(testfiles.RepoRoot(t), "omexerr"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Files) != 1 || ix.Files[0].Path != "errors.go" || ix.Files[0].Package != "omexerr" {
		t.Fatalf("files: %+v (tests must be left out)", ix.Files)
	}
	f := ix.Files[0]
	find := func(name, recv string) Func {
		for _, fn := range f.Functions {
			if fn.Name == name && fn.Receiver == recv {
				return fn
			}
		}
		t.Fatalf("no function %s (receiver %q) in %+v", name, recv, f.Functions)
		return Func{}
	}
	if fn := find("New", ""); fn.Signature != "func New(c Category, code, format string, args ...any) *Error" || !strings.HasPrefix(fn.Doc, "New makes an error") {
		t.Errorf("New: %+v", fn)
	}
	if fn := find("WithFile", "*Error"); fn.Signature != "func (e *Error) WithFile(path string) *Error" {
		t.Errorf("WithFile: %+v", fn)
	}
	kinds := map[string]string{}
	for _, ty := range f.Types {
		kinds[ty.Name] = ty.Kind
	}
	if kinds["Category"] != "int" || kinds["Error"] != "struct" {
		t.Errorf("types: %+v", f.Types)
	}
}

func TestParsePython(t *testing.T) {
	src, err := os.ReadFile("testdata/shapes.py")
	if err != nil {
		t.Fatal(err)
	}
	f := ParsePython("geo/shapes.py", src)
	var fns []string
	for _, fn := range f.Functions {
		fns = append(fns, fn.Receiver+"|"+fn.Signature+"|"+fn.Doc)
	}
	want := []string{
		`|def area(shape: "Shape", scale: float = 1.0) -> float|Return the area of shape, scaled.`,
		`Shape|def area(self)|`,
		`Shape.Meta|def describe(cls)|`,
		`Circle|async def grow(self, by: float = 2) -> "Circle"|Grow the circle.`,
		`|def ratio(a, b)|`,
	}
	if !slices.Equal(fns, want) {
		t.Errorf("functions:\n%s\nwant:\n%s", strings.Join(fns, "\n"), strings.Join(want, "\n"))
	}
	var types []string
	for _, ty := range f.Types {
		types = append(types, ty.Name+"|"+ty.Doc)
	}
	if want := []string{"Shape|A plane figure.\n\nSubclasses implement area.", "Shape.Meta|", "Circle|"}; !slices.Equal(types, want) {
		t.Errorf("types: %q, want %q", types, want)
	}
	if f.Package != "shapes" || f.Functions[0].Line != 8 {
		t.Errorf("package %q, first line %d", f.Package, f.Functions[0].Line)
	}
}

func TestBuildSkipsAndBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.go", "package a\nfunc A() {}\n")
	write("b.go", "package a\nfunc B( {\n")
	write("a_test.go", "package a\nfunc TestA() {}\n")
	write("testdata/c.go", "package c\n")
	write(".hidden/d.py", "def d(): pass\n")
	write("big.py", strings.Repeat("# x\n", 100))
	write("notes.txt", "def x(): pass\n")
	ix, err := Build(context.Background(), dir, Options{MaxFileBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range ix.Files {
		paths = append(paths, f.Path)
	}
	if !slices.Equal(paths, []string{"a.go", "b.go"}) || ix.Files[1].Error == "" || len(ix.Skipped) != 1 || !strings.Contains(ix.Skipped[0], "big.py") {
		t.Fatalf("files %v, b.go error %q, skipped %v", paths, ix.Files[1].Error, ix.Skipped)
	}
	ix, err = Build(context.Background(), dir, Options{MaxFiles: 1, IncludeTests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Files) != 1 || len(ix.Skipped) != 3 {
		t.Fatalf("with MaxFiles 1: %d files, skipped %v", len(ix.Files), ix.Skipped)
	}
	if _, err := Build(context.Background(), filepath.Join(dir, "notes.txt"), Options{}); err == nil {
		t.Fatal("a text file was indexed")
	}
	if _, err := Build(context.Background(), filepath.Join(dir, "missing"), Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing path: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, dir, Options{}); err == nil {
		t.Fatal("a cancelled index completed")
	}
}

func TestFirstSentence(t *testing.T) {
	cases := map[string]string{
		"String returns the name, e.g. \"ModelError\". More.": "String returns the name, e.g. \"ModelError\".",
		"One line\nacross two. Second.":                       "One line across two.",
		"No full stop":                                        "No full stop",
		strings.Repeat("é", 150):                              strings.Repeat("é", 98) + "...",
	}
	for in, want := range cases {
		if got := FirstSentence(in); got != want {
			t.Errorf("FirstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}

package srcindex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// FuzzParsePython checks the line parser never panics and that every
// function it finds has a name, a signature and a line inside the file.
func FuzzParsePython(f *testing.F) {
	src, err := os.ReadFile("testdata/shapes.py")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add([]byte("def f(\n"))
	f.Add([]byte("class A:\n\tdef b(self): '''x\n"))
	f.Add([]byte("def f(a=')'): pass\n\"\"\"\ndef g(): pass\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file := ParsePython("x.py", src)
		lines := strings.Count(string(src), "\n") + 1
		for _, fn := range file.Functions {
			if fn.Name == "" || fn.Signature == "" || fn.Line < 1 || fn.Line > lines {
				t.Fatalf("bad function %+v", fn)
			}
		}
		for _, ty := range file.Types {
			if ty.Name == "" || ty.Line < 1 || ty.Line > lines {
				t.Fatalf("bad type %+v", ty)
			}
		}
	})
}

// FuzzParseGo checks indexing arbitrary Go source never panics.
func FuzzParseGo(f *testing.F) {
	root := testfiles.RepoRoot(f)
	for _, p := range []string{"omexerr/errors.go", "runtime/sample/params.go", "container/container.go"} {
		if src, err := os.ReadFile(filepath.Join(root, p)); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("package p\ntype (A = int; B[T any] []T)\nfunc (B[T]) M() {}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file := ParseGo("x.go", src)
		if file.Error == "" && file.Package == "" {
			t.Fatal("a parsed file has no package")
		}
	})
}

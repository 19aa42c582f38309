package container

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRoot walks up from the package directory to the folder with go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

// codeContainer creates the source-summary container over the omexerr
// package with the bundled stories260K model.
func codeContainer(t testing.TB) *Container {
	t.Helper()
	root := repoRoot(t)
	c, err := Create(filepath.Join(root, "testdata/stories260K/stories260K.bin"), "Summarize the functions in this Go package",
		CreateOptions{Tokenizer: filepath.Join(root, "testdata/stories260K/tok512.bin"), Context: filepath.Join(root, "omexerr")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package container

import (
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// codeContainer creates the source-summary container over the omexerr
// package with the bundled stories260K model.
func codeContainer(t testing.TB) *Container {
	t.Helper()
	root := testfiles.RepoRoot(t)
	c, err := Create(filepath.Join(root, "testdata/stories260K/stories260K.bin"), "Summarize the functions in this Go package",
		CreateOptions{Tokenizer: filepath.Join(root, "testdata/stories260K/tok512.bin"), Context: filepath.Join(root, "omexerr")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package llama2c

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// storiesDir returns the shared stories260K test data folder, skipping the
// test when ../shared/testdata is not beside the repository.
func storiesDir(t testing.TB) string {
	t.Helper()
	return testfiles.SharedFile(t, "models/stories260K")
}

// readShared returns the bytes of a stories260K test file.
func readShared(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(storiesDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// specOf is a tokenizer.Spec of n distinct pieces, for parsing checkpoints
// where the test is about the weights and not the tokenizer.
func specOf(n int) tokenizer.Spec {
	s := tokenizer.Spec{Kind: tokenizer.SPM, BOS: 1, EOS: 2, UNK: 0, PAD: -1}
	for i := 0; i < n; i++ {
		s.Tokens = append(s.Tokens, fmt.Sprintf("<t%d>", i))
		s.Scores = append(s.Scores, float32(-i))
	}
	return s
}

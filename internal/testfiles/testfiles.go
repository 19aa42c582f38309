// Package testfiles locates the files tests read: the repository root (the
// directory holding go.mod) and the real models and tokenizers in the
// read-only shared test data beside it (../shared/testdata from the root).
// Tests that need the shared data skip, saying what is missing, when it is
// not there, so the repository's tests pass on a bare checkout.
package testfiles

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// RepoRoot returns the directory holding go.mod, walking up from the test's
// working directory (its package directory under go test).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// Shared returns the shared test data folder, ../shared/testdata beside
// the repository root, or skips the test when it is absent.
func Shared(tb testing.TB) string {
	tb.Helper()
	td := filepath.Join(RepoRoot(tb), "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		tb.Skipf("shared test data not found at %s (put the shared folder beside the checkout): %v", td, err)
	}
	return td
}

// SharedFile returns the path of a file under the shared test data (rel is
// slash-separated), or skips the test when the folder or the file is absent.
func SharedFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Shared(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test file %s is absent: %v", rel, err)
	}
	return p
}

// SharedPath is SharedFile without a test to skip: for fuzz seeds, which
// are optional, it returns an error when the file is absent. rel "" names
// the shared folder itself.
func SharedPath(rel string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "..", "shared", "testdata", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// OptionalFile returns the bytes of a shared test file, or nil when it is
// absent or unreadable: for fuzz seeds, which still run on synthetic
// inputs without the shared data.
func OptionalFile(rel string) []byte {
	p, err := SharedPath(rel)
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return b
}

// ReadIDs reads a golden token id file: decimal ids separated by white
// space, as the run.c goldens are written. A missing or malformed file
// fails the test.
func ReadIDs(tb testing.TB, path string) []int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []int
	for _, f := range strings.Fields(string(b)) {
		id, err := strconv.Atoi(f)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// repoRoot walks up from the working directory to the one holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test directory")
		}
		dir = parent
	}
}

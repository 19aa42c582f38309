package testfiles

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRepoRootHoldsThisModule(t *testing.T) {
	root := RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "module github.com/omex-dev/omex\n") {
		t.Fatalf("go.mod at %s is not this module's", root)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testfiles", "testfiles.go")); err != nil {
		t.Fatalf("root %s does not hold this package: %v", root, err)
	}
}

func TestSharedPathMissingFile(t *testing.T) {
	if _, err := SharedPath("no/such/file.bin"); err == nil {
		t.Fatal("SharedPath found a file that does not exist")
	}
}

func TestSharedFileFindsManifest(t *testing.T) {
	p := SharedFile(t, "MANIFEST.md")
	if filepath.Base(p) != "MANIFEST.md" || filepath.Dir(p) != Shared(t) {
		t.Fatalf("SharedFile gave %s", p)
	}
	q, err := SharedPath("MANIFEST.md")
	if err != nil || q != p {
		t.Fatalf("SharedPath gave %q, %v; want %q", q, err, p)
	}
}

func TestReadIDs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(p, []byte("1 2\n 30\t4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := ReadIDs(t, p), []int{1, 2, 30, 4}; !slices.Equal(got, want) {
		t.Fatalf("ReadIDs = %v, want %v", got, want)
	}
}

func TestOptionalFile(t *testing.T) {
	if b := OptionalFile("no/such/file.bin"); b != nil {
		t.Fatalf("OptionalFile of a missing file = %d bytes", len(b))
	}
	want, err := os.ReadFile(SharedFile(t, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	if got := OptionalFile("MANIFEST.md"); string(got) != string(want) || len(got) == 0 {
		t.Fatalf("OptionalFile(MANIFEST.md) = %d bytes, want %d", len(got), len(want))
	}
}

package agent

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// readerFixture makes a root with readable files, a secret outside it and
// symlinks in and out, and returns the root, the outside dir and the tool.
func readerFixture(t testing.TB) (root, outside string, r *fileReader) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{root, filepath.Join(root, "pkg"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(root, "main.go"):         "package main\n",
		filepath.Join(root, "pkg", "notes.md"): "# notes\n",
		filepath.Join(root, "key.pem"):         "not allowed\n",
		filepath.Join(root, "binary.txt"):      "\xff\xfe\x00",
		filepath.Join(outside, "secret.txt"):   "secret\n",
		filepath.Join(base, "x.txt"):           "beside the root\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"escape.txt":     filepath.Join(outside, "secret.txt"), // absolute, out
		"rel-escape.txt": "../outside/secret.txt",              // relative, out
		"outdir":         outside,                              // a directory out
		"inside.md":      "pkg/notes.md",                       // stays in
		"alias.txt":      "key.pem",                            // in, but to a refused extension
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside, newFileReader(ToolConfig{Root: root, AllowedExtensions: []string{".go", "MD", ".txt"}})
}

// readFile calls the tool with a path.
func readFile(r *fileReader, path string) (fileReaderOutput, error) {
	in, _ := json.Marshal(fileReaderInput{Path: path})
	raw, err := r.Call(context.Background(), in)
	if err != nil {
		return fileReaderOutput{}, err
	}
	var out fileReaderOutput
	err = json.Unmarshal(raw, &out)
	return out, err
}

func TestFileReaderReadsAllowedFiles(t *testing.T) {
	_, _, r := readerFixture(t)
	for path, want := range map[string]string{
		"main.go":          "package main\n",
		"pkg/notes.md":     "# notes\n",
		"./pkg/../main.go": "package main\n",
		"inside.md":        "# notes\n",
		"pkg//notes.md":    "# notes\n",
	} {
		out, err := readFile(r, path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if out.Content != want || out.Size != len(want) {
			t.Errorf("%s: got %+v, want %q", path, out, want)
		}
	}
}

func TestFileReaderRefuses(t *testing.T) {
	root, outside, r := readerFixture(t)
	for path, why := range map[string]string{
		"../x.txt":                           "outside",
		"pkg/../../x.txt":                    "outside",
		"..":                                 "outside",
		filepath.Join(root, "main.go"):       "absolute",
		"/etc/passwd":                        "absolute",
		filepath.Join(outside, "secret.txt"): "absolute",
		"escape.txt":                         "outside",
		"rel-escape.txt":                     "outside",
		"outdir/secret.txt":                  "outside",
		"key.pem":                            "extension",
		"alias.txt":                          "extension",
		"pkg":                                "extension",
		"missing.go":                         "no such file",
		"binary.txt":                         "UTF-8",
		"":                                   "missing",
		"a\x00.go":                           "NUL",
	} {
		out, err := readFile(r, path)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input {
			t.Errorf("%q: got %+v, %v; want an InputError (%s)", path, out, err, why)
			continue
		}
		if !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v does not say %q", path, err, why)
		}
		if path != "" && e.File != path {
			t.Errorf("%q: the error names %q", path, e.File)
		}
		if strings.Contains(out.Content, "secret") {
			t.Errorf("%q: the secret leaked", path)
		}
	}
}

// A FIFO and an over-size file are refused without reading them.
func TestFileReaderRefusesSpecialAndLargeFiles(t *testing.T) {
	root, _, r := readerFixture(t)
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.txt"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if _, err := readFile(r, "pipe.txt"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: got %v", err)
	}
	big := filepath.Join(root, "big.txt")
	if err := os.WriteFile(big, make([]byte, maxReadBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFile(r, "big.txt"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("an over-size file: got %v", err)
	}
}

// The root itself may be reached through a symlink; paths are judged
// against where it really is.
func TestFileReaderRootBehindSymlink(t *testing.T) {
	root, _, _ := readerFixture(t)
	link := filepath.Join(t.TempDir(), "rootlink")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	r := newFileReader(ToolConfig{Root: link, AllowedExtensions: []string{".go", ".txt"}})
	if out, err := readFile(r, "main.go"); err != nil || out.Content != "package main\n" {
		t.Errorf("got %+v, %v", out, err)
	}
	if _, err := readFile(r, "escape.txt"); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("escape through a linked root: got %v", err)
	}
}

func TestFileReaderNoExtensionsAllowsNothing(t *testing.T) {
	root, _, _ := readerFixture(t)
	r := newFileReader(ToolConfig{Root: root})
	if _, err := readFile(r, "main.go"); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("got %v, want a refusal", err)
	}
}

func TestFileReaderBadInput(t *testing.T) {
	_, _, r := readerFixture(t)
	for _, in := range []string{`{"path": 3}`, `{"file": "main.go"}`, `"main.go"`, `{"path": "main.go"} x`} {
		if _, err := r.Call(context.Background(), json.RawMessage(in)); omexerr.CategoryOf(err) != omexerr.Input {
			t.Errorf("%s: got %v, want an InputError", in, err)
		}
	}
}

func TestDefaultTools(t *testing.T) {
	tools := DefaultTools(ToolConfig{})
	for _, name := range ToolNames() {
		tool, ok := tools[name]
		if !ok || tool.Name() != name || tool.Description() == "" {
			t.Errorf("tool %s: %v", name, tool)
		}
	}
	if len(tools) != len(ToolNames()) {
		t.Errorf("DefaultTools has %d tools, ToolNames %d", len(tools), len(ToolNames()))
	}
}

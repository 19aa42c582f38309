package agent

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/omex-dev/omex/omexerr"
)

// maxReadBytes is the largest file file_reader returns.
const maxReadBytes = 4 << 20

// fileReader is the file_reader tool: it returns the text of one file
// inside its root, read only, if the file's extension is allowed.
type fileReader struct {
	root string
	exts map[string]bool
}

// fileReaderInput is file_reader's input.
type fileReaderInput struct {
	Path string `json:"path"`
}

// fileReaderOutput is file_reader's answer. Path is the cleaned path
// relative to the root, slash-separated.
type fileReaderOutput struct {
	Path    string `json:"path"`
	Size    int    `json:"size"`
	Content string `json:"content"`
}

// newFileReader makes the tool for cfg's root and extensions.
func newFileReader(cfg ToolConfig) *fileReader {
	r := &fileReader{root: cfg.Root, exts: map[string]bool{}}
	if r.root == "" {
		r.root = "."
	}
	if abs, err := filepath.Abs(r.root); err == nil {
		r.root = abs
	}
	for _, e := range cfg.AllowedExtensions {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		r.exts[e] = true
	}
	return r
}

// Name is "file_reader".
func (r *fileReader) Name() string { return FileReaderName }

// Description says what the tool does, for the agent's prompt.
func (r *fileReader) Description() string {
	return `Reads a text file inside the project root. Input: {"path": "relative/path.ext"}. Output: {"path", "size", "content"}.`
}

// Call reads the file named by the input's path.
func (r *fileReader) Call(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	var in fileReaderInput
	if err := decodeInput(FileReaderName, input, &in); err != nil {
		return nil, err
	}
	data, clean, err := r.read(in.Path)
	if err != nil {
		return nil, err
	}
	return encodeOutput(FileReaderName, fileReaderOutput{Path: clean, Size: len(data), Content: string(data)})
}

// read checks path and returns the file's contents and cleaned path.
// Every refusal is an InputError naming the path as given.
func (r *fileReader) read(path string) ([]byte, string, error) {
	clean, err := r.checkPath(path)
	if err != nil {
		return nil, "", err
	}
	root, err := filepath.EvalSymlinks(r.root)
	if err != nil {
		return nil, "", omexerr.Configf("config.file_root", "the file_reader root %s cannot be used", r.root).Wrap(err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, clean))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, "", refuse(path, "input.not_found", "no such file under the root")
		}
		return nil, "", refuse(path, "input.path_refused", "cannot resolve the path").Wrap(err)
	}
	// A symlink anywhere on the path may lead out of the root; only where
	// it finally lands counts, and its extension must be allowed too.
	if !within(root, real) {
		return nil, "", refuse(path, "input.path_refused", "the path leads outside the root")
	}
	if !r.exts[strings.ToLower(filepath.Ext(real))] {
		return nil, "", refuse(path, "input.path_refused", "the path leads to a %q file, which is not an allowed extension", filepath.Ext(real))
	}
	f, err := openNoFollow(real)
	if err != nil {
		return nil, "", refuse(path, "input.path_refused", "cannot open").Wrap(err)
	}
	defer f.Close()
	// Re-check what was opened: a directory on the path swapped for a
	// symlink after EvalSymlinks would show here as a different file.
	if opened, ok := openedPath(f); ok && opened != real {
		return nil, "", refuse(path, "input.path_refused", "the file changed while it was opened")
	}
	st, err := f.Stat()
	if err != nil {
		return nil, "", refuse(path, "input.path_refused", "cannot stat").Wrap(err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", refuse(path, "input.not_regular", "not a regular file (%s)", st.Mode().Type())
	}
	if st.Size() > maxReadBytes {
		return nil, "", refuse(path, "input.too_large", "%d bytes is over the %d-byte limit", st.Size(), maxReadBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxReadBytes+1))
	if err != nil {
		return nil, "", refuse(path, "input.path_refused", "cannot read").Wrap(err)
	}
	if len(data) > maxReadBytes {
		return nil, "", refuse(path, "input.too_large", "over the %d-byte limit", maxReadBytes)
	}
	if !utf8.Valid(data) {
		return nil, "", refuse(path, "input.not_text", "not UTF-8 text")
	}
	return data, filepath.ToSlash(clean), nil
}

// checkPath refuses a path by its text alone: empty, absolute, escaping
// the root with "..", or with an extension that is not allowed. It returns
// the cleaned path.
func (r *fileReader) checkPath(path string) (string, error) {
	switch {
	case path == "":
		return "", omexerr.Inputf("input.path_refused", "file_reader: the path is missing")
	case strings.ContainsRune(path, 0):
		return "", refuse(path, "input.path_refused", "the path contains a NUL byte")
	case filepath.IsAbs(path) || strings.HasPrefix(path, "/") || strings.HasPrefix(path, `\`):
		return "", refuse(path, "input.path_refused", "absolute paths are refused; give a path relative to the root")
	case !filepath.IsLocal(path):
		return "", refuse(path, "input.path_refused", "the path leads outside the root")
	}
	clean := filepath.Clean(path)
	if !r.exts[strings.ToLower(filepath.Ext(clean))] {
		return "", refuse(path, "input.path_refused", "extension %q is not allowed", filepath.Ext(clean))
	}
	return clean, nil
}

// within reports whether path is root or below it; both must be cleaned
// and free of symlinks.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && filepath.IsLocal(rel)
}

// refuse is file_reader's InputError about path.
func refuse(path, code, format string, args ...any) *omexerr.Error {
	e := omexerr.Inputf(code, "file_reader: "+format, args...)
	return e.WithFile(path)
}

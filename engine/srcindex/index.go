// Package srcindex builds an index of a source tree: its Go and Python files
// with the types and functions each declares, their signatures and doc. The
// engine's parse_source task produces it; assemble_summary reads it.
package srcindex

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Index is the source tree's index.
type Index struct {
	Root    string   `json:"root"`
	Files   []File   `json:"files"`
	Skipped []string `json:"skipped,omitempty"` // files left out, with why
}

// File is one indexed source file.
type File struct {
	Path      string `json:"path"`     // relative to the root, slash-separated
	Language  string `json:"language"` // "go" or "python"
	Package   string `json:"package"`  // the Go package name, or the Python module name
	Types     []Type `json:"types,omitempty"`
	Functions []Func `json:"functions,omitempty"`
	Error     string `json:"error,omitempty"` // why the file could not be parsed (it is still listed)
}

// Type is a declared type (a Go type or a Python class).
type Type struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // struct, interface, func, alias, ... or class
	Doc  string `json:"doc,omitempty"`
	Line int    `json:"line"`
}

// Func is a declared function or method.
type Func struct {
	Name      string `json:"name"`
	Receiver  string `json:"receiver,omitempty"` // the receiver type or enclosing class
	Signature string `json:"signature"`
	Doc       string `json:"doc,omitempty"`
	Line      int    `json:"line"`
}

// Options bound an index.
type Options struct {
	MaxFiles     int   // files indexed at most; 0 means 5000
	MaxFileBytes int64 // larger files are skipped; 0 means 4 MB
	IncludeTests bool  // index Go _test.go and Python test_*.py files too
}

// Build indexes the Go and Python files under root (a directory or one
// file). Directories named testdata or vendor, and hidden ones, are not
// entered; symbolic links are not followed.
func Build(ctx context.Context, root string, opt Options) (*Index, error) {
	if opt.MaxFiles <= 0 {
		opt.MaxFiles = 5000
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 4 << 20
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, omexerr.Inputf("input.source_path", "cannot read the source path").WithFile(root).Wrap(err)
	}
	ix := &Index{Root: root, Files: []File{}}
	if !st.IsDir() {
		if language(root, true) == "" {
			return nil, omexerr.Inputf("input.source_path", "not a Go or Python file").WithFile(root)
		}
		ix.Root = filepath.Dir(root)
		ix.add(root, filepath.Base(root), st.Size(), opt)
		return ix, nil
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: %v", path, err))
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || language(name, opt.IncludeTests) == "" {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if len(ix.Files) >= opt.MaxFiles {
			ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: over the limit of %d files", filepath.ToSlash(rel), opt.MaxFiles))
			return nil
		}
		info, err := d.Info()
		if err != nil {
			ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: %v", filepath.ToSlash(rel), err))
			return nil
		}
		ix.add(path, rel, info.Size(), opt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// add parses one file into the index, or notes why it was skipped.
func (ix *Index) add(path, rel string, size int64, opt Options) {
	rel = filepath.ToSlash(rel)
	if size > opt.MaxFileBytes {
		ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: %d bytes, over the %d-byte limit", rel, size, opt.MaxFileBytes))
		return
	}
	src, err := os.ReadFile(path)
	if err != nil {
		ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: %v", rel, err))
		return
	}
	var f File
	if language(path, true) == "go" {
		f = ParseGo(rel, src)
	} else {
		f = ParsePython(rel, src)
	}
	ix.Files = append(ix.Files, f)
}

// language is "go" or "python" for the files the index reads, else "".
func language(name string, tests bool) string {
	base := filepath.Base(name)
	switch {
	case strings.HasSuffix(base, ".go"):
		if !tests && strings.HasSuffix(base, "_test.go") {
			return ""
		}
		return "go"
	case strings.HasSuffix(base, ".py"):
		if !tests && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py")) {
			return ""
		}
		return "python"
	}
	return ""
}

// FirstSentence shortens a doc comment to its first sentence (or line),
// at most 200 bytes, for summaries.
func FirstSentence(doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	for from := 0; ; {
		i := strings.Index(doc[from:], ". ")
		if i < 0 {
			break
		}
		i += from
		// "e.g. " and "i.e. " do not end a sentence.
		if strings.HasSuffix(doc[:i], "e.g") || strings.HasSuffix(doc[:i], "i.e") {
			from = i + 2
			continue
		}
		doc = doc[:i+1]
		break
	}
	if len(doc) > 200 {
		cut := 197
		for cut > 0 && !utf8Start(doc[cut]) {
			cut--
		}
		doc = doc[:cut] + "..."
	}
	return doc
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/engine/srcindex"
)

// assembleSummary writes a plain-text summary of its inputs: a source index
// becomes a list of packages with their types and functions (signature and
// the doc's first sentence); texts and lists of texts are included as they
// are. Several inputs get a heading each.
func assembleSummary(t *task) (*result, error) {
	var sections []string
	for _, v := range t.inputs {
		body := v.Text()
		if ix, ok := asIndex(v.Data); ok {
			body = renderIndex(ix)
		}
		if len(t.inputs) > 1 {
			body = v.Name + ":\n" + body
		}
		sections = append(sections, strings.TrimRight(body, "\n"))
	}
	return &result{outputs: map[string]json.RawMessage{"summary": jsonString(strings.Join(sections, "\n\n") + "\n")}}, nil
}

// asIndex decodes a value that is a source index (an object with root and
// files, nothing else).
func asIndex(data json.RawMessage) (*srcindex.Index, bool) {
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ix srcindex.Index
	if dec.Decode(&ix) != nil || ix.Root == "" || ix.Files == nil {
		return nil, false
	}
	return &ix, true
}

// renderIndex lists an index's packages (Go files grouped by directory and
// package, Python files by module) with their types and functions.
func renderIndex(ix *srcindex.Index) string {
	var b strings.Builder
	funcs, types := 0, 0
	for _, f := range ix.Files {
		funcs += len(f.Functions)
		types += len(f.Types)
	}
	fmt.Fprintf(&b, "Source %s: %d files, %d functions, %d types.\n", filepath.Base(ix.Root), len(ix.Files), funcs, types)
	type group struct {
		title string
		files []srcindex.File
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, f := range ix.Files {
		dir := path.Dir(f.Path)
		key, title := f.Language+" "+dir+" "+f.Package, ""
		if f.Language == "go" {
			title = "Go package " + f.Package
		} else {
			title = "Python module " + f.Package
		}
		if dir != "." {
			title += " (" + dir + ")"
		}
		g := byKey[key]
		if g == nil {
			g = &group{title: title}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.files = append(g.files, f)
	}
	var broken []string
	for _, g := range groups {
		var names []string
		for _, f := range g.files {
			names = append(names, path.Base(f.Path))
		}
		fmt.Fprintf(&b, "\n%s, files %s:\n", g.title, strings.Join(names, ", "))
		for _, f := range g.files {
			if f.Error != "" {
				broken = append(broken, f.Path+": "+f.Error)
			}
			for _, ty := range f.Types {
				fmt.Fprintf(&b, "- type %s (%s)%s\n", ty.Name, ty.Kind, docSuffix(ty.Doc))
			}
			for _, fn := range f.Functions {
				fmt.Fprintf(&b, "- %s%s\n", fn.Signature, docSuffix(fn.Doc))
			}
		}
	}
	if len(broken) > 0 {
		fmt.Fprintf(&b, "\nFiles that did not parse:\n- %s\n", strings.Join(broken, "\n- "))
	}
	if len(ix.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSkipped: %d files.\n", len(ix.Skipped))
	}
	return b.String()
}

func docSuffix(doc string) string {
	if doc == "" {
		return ""
	}
	return ": " + srcindex.FirstSentence(doc)
}

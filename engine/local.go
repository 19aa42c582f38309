package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/engine/srcindex"
	"github.com/omex-dev/omex/omexerr"
)

// executeLocal runs the built-in local_cpu tasks.
func executeLocal(ctx context.Context, t *task) (*result, error) {
	switch t.node.Type {
	case "parse_source":
		return parseSource(ctx, t)
	case "chunk_text":
		return chunkTask(t)
	case "assemble_summary":
		return assembleSummary(t)
	case "format_json":
		data, err := objectOf(t.inputs)
		if err != nil {
			return nil, err
		}
		return &result{outputs: map[string]json.RawMessage{"json": data}}, nil
	}
	return nil, omexerr.Inputf("engine.unknown_type", "node %q: %q is not a local_cpu task", t.node.ID, t.node.Type)
}

// parseSource indexes the Go and Python files under the input path.
func parseSource(ctx context.Context, t *task) (*result, error) {
	path := resolvePath(t.baseDir, t.inputs[0].Text())
	ix, err := srcindex.Build(ctx, path, srcindex.Options{})
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(ix)
	if err != nil {
		return nil, omexerr.Executionf("engine.encode", "cannot encode the source index").Wrap(err)
	}
	funcs, types := 0, 0
	for _, f := range ix.Files {
		funcs += len(f.Functions)
		types += len(f.Types)
	}
	note := fmt.Sprintf("indexed %d files: %d functions, %d types", len(ix.Files), funcs, types)
	if len(ix.Skipped) > 0 {
		note += fmt.Sprintf("; skipped %d", len(ix.Skipped))
	}
	return &result{outputs: map[string]json.RawMessage{"index": data}, notes: []string{note}}, nil
}

// chunkTask splits its text input into chunks of at most size bytes.
func chunkTask(t *task) (*result, error) {
	size, text := 2000, ""
	for _, v := range t.inputs {
		if v.Name == "size" {
			n, ok := container.LiteralInt(v.Data)
			if !ok || n < 1 {
				return nil, omexerr.Inputf("engine.bad_input", "node %q: size %s must be a positive integer", t.node.ID, v.Data)
			}
			size = n
			continue
		}
		text = v.Text()
	}
	data, err := json.Marshal(chunkText(text, size))
	if err != nil {
		return nil, omexerr.Executionf("engine.encode", "cannot encode the chunks").Wrap(err)
	}
	return &result{outputs: map[string]json.RawMessage{"chunks": data}}, nil
}

// objectOf gathers values into one indented JSON object, keys in input
// order.
func objectOf(vals []Value) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(v.Name))
		b.WriteByte(':')
		b.Write(v.Data)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, omexerr.Executionf("engine.encode", "an input is not valid JSON").Wrap(err)
	}
	return out.Bytes(), nil
}

// resolvePath makes a relative path relative to base (the container's
// directory).
func resolvePath(base, path string) string {
	if path == "" || filepath.IsAbs(path) || base == "" {
		return path
	}
	return filepath.Join(base, path)
}

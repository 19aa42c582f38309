package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/omex-dev/omex/omexerr"
)

// Size limits for files read whole; a larger file is rejected before it is
// read, so a corrupt or hostile package cannot make Open allocate much.
const (
	maxJSONBytes = 64 << 20 // metadata, graph, index, tokenizer config, agent
	maxTextBytes = 64 << 20 // vocab.txt, merges.txt (real ones are a few MB)
)

// marshalJSON is the one JSON encoding of the package: struct field order,
// two-space indent, no HTML escaping (tokens like "<s>" stay readable), a
// final newline. Same value, same bytes.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readFile reads dir/rel whole after checking its size against limit.
func readFile(dir, rel string, limit int64) ([]byte, *omexerr.Error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, openError(rel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot stat").WithFile(rel).Wrap(err)
	}
	if !st.Mode().IsRegular() {
		return nil, omexerr.Modelf("model.bad_file", "not a regular file").WithFile(rel)
	}
	if st.Size() > limit {
		return nil, omexerr.Modelf("model.too_large", "%d bytes is over the %d-byte limit for this file", st.Size(), limit).WithFile(rel)
	}
	// Read at most limit+1 so a file that grows after Stat is still bounded.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot read").WithFile(rel).Wrap(err)
	}
	if int64(len(b)) > limit {
		return nil, omexerr.Modelf("model.too_large", "over the %d-byte limit for this file", limit).WithFile(rel)
	}
	return b, nil
}

// openError classifies a failure to open a package file: a missing file is
// bad package content, anything else is the machine's problem.
func openError(rel string, err error) *omexerr.Error {
	if errors.Is(err, fs.ErrNotExist) {
		return omexerr.Modelf("model.missing_file", "file is missing").WithFile(rel).Wrap(err)
	}
	return omexerr.Resourcef("resource.io", "cannot open").WithFile(rel).Wrap(err)
}

// readJSON reads dir/rel into v; syntax and type errors carry their offset.
func readJSON(dir, rel string, v any) *omexerr.Error {
	b, e := readFile(dir, rel, maxJSONBytes)
	if e != nil {
		return e
	}
	return decodeJSON(b, rel, v)
}

// decodeJSON unmarshals b (the contents of file rel) into v.
func decodeJSON(b []byte, rel string, v any) *omexerr.Error {
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	e := omexerr.Modelf("model.bad_json", "invalid JSON").WithFile(rel).Wrap(err)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		e.Offset = syn.Offset
	case errors.As(err, &typ):
		e.Offset = typ.Offset
	}
	return e
}

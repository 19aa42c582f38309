package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// MaxFileSize bounds a container file; real containers are a few KB.
const MaxFileSize = 16 << 20

// Load reads and parses a container file (it does not validate it).
func Load(path string) (*Container, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Inputf("container.read", "cannot read the container").WithFile(path).Wrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, omexerr.Inputf("container.read", "cannot read the container").WithFile(path).Wrap(err)
	}
	return Parse(data, path)
}

// Parse decodes a container strictly: the document must be one JSON object
// whose fields are all known (every unknown field is reported with its path
// and the fields allowed there) and whose values have the right JSON types.
// file names the source in errors. Parse does not validate; call Validate.
func Parse(data []byte, file string) (*Container, error) {
	if len(data) > MaxFileSize {
		return nil, omexerr.Inputf("container.too_large", "the container is over %d MB", MaxFileSize>>20).WithFile(file)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, jsonError(err, file, int64(len(data)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, omexerr.Inputf("container.syntax", "unexpected data after the container's JSON object").WithFile(file).WithOffset(dec.InputOffset())
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, omexerr.Inputf("container.syntax", "the container must be a JSON object").WithFile(file).WithOffset(0)
	}
	var problems Problems
	for _, u := range unknownFields(doc, reflect.TypeFor[Container](), "") {
		problems = append(problems, omexerr.Inputf("container.unknown_field", "%s", u).WithFile(file))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var c Container
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, jsonError(err, file, 0)
	}
	return &c, nil
}

// jsonError turns an encoding/json error into an InputError naming where.
func jsonError(err error, file string, at int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return omexerr.Inputf("container.syntax", "invalid JSON: %s", syn.Error()).WithFile(file).WithOffset(syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the container"
		}
		return omexerr.Inputf("container.bad_type", "%s must be %s, not a JSON %s", field, jsonKind(typ.Type), typ.Value).WithFile(file).WithOffset(typ.Offset)
	case errors.Is(err, io.EOF):
		return omexerr.Inputf("container.syntax", "the container is empty").WithFile(file).WithOffset(0)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return omexerr.Inputf("container.truncated", "the container's JSON ends early").WithFile(file).WithOffset(at)
	}
	return omexerr.Inputf("container.syntax", "invalid JSON").WithFile(file).WithOffset(at).Wrap(err)
}

// jsonKind says in JSON words what a Go type expects.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Uint32, reflect.Uint:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// unknownFields walks a decoded JSON value beside the Go type it will fill
// and describes every object key that type has no field for.
func unknownFields(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // a type error, reported by Unmarshal
		}
		fields := map[string]reflect.Type{}
		var known []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			known = append(known, name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				out = append(out, fmt.Sprintf("unknown field %q in %s (known: %s)", k, orTop(path), strings.Join(known, ", ")))
				continue
			}
			out = append(out, unknownFields(obj[k], ft, join(path, k))...)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			out = append(out, unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the container"
	}
	return path
}

// JSON returns the container as indented JSON, as Create's callers save it.
func (c *Container) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

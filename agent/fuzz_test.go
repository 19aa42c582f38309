package agent

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/omexerr"
)

// FuzzParseAgent: any bytes either load as an agent that survives a
// round trip, or give a ModelError naming the file; never a panic.
func FuzzParseAgent(f *testing.F) {
	def, _ := json.Marshal(format.DefaultAgent(2048))
	f.Add(def)
	f.Add([]byte(validAgent))
	f.Add([]byte(`{"agent_id":"a","memory_management":{"strategy":"truncate","context_window_size":1},"response_format":{"type":"text"},"tools":[{"name":"file_reader"}]}`))
	f.Add([]byte(`{"agent_id":"a","memory_management":{"strategy":"full","context_window_size":-1}}`))
	f.Add([]byte(`{"agent_id": 5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAgent(data, "agents/f.json")
		if err != nil {
			e, ok := omexerr.As(err)
			if !ok || e.Category != omexerr.Model || e.File != "agents/f.json" {
				t.Fatalf("error %v is not a ModelError naming the file", err)
			}
			return
		}
		mm := a.MemoryManagement
		if a.AgentID == "" || mm.ContextWindowSize <= 0 || (mm.Strategy != StrategySlidingWindow && mm.Strategy != StrategyTruncate) {
			t.Fatalf("accepted a bad agent: %+v", a)
		}
		for _, tool := range a.Tools {
			if _, ok := DefaultTools(ToolConfig{})[tool.Name]; !ok {
				t.Fatalf("accepted unknown tool %q", tool.Name)
			}
		}
		again, _ := json.Marshal(a.Agent)
		b, err := ParseAgent(again, "agents/f.json")
		if err != nil {
			t.Fatalf("the re-encoded agent does not load: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the agent:\n%+v\n%+v", a, b)
		}
	})
}

// FuzzFileReaderPath: whatever the path, file_reader either refuses with
// an InputError or returns a file inside the root with an allowed
// extension; it never returns the secret outside the root, the file
// beside it, or the file with a refused extension.
func FuzzFileReaderPath(f *testing.F) {
	_, _, r := readerFixture(f)
	for _, p := range []string{"main.go", "pkg/notes.md", "../x.txt", "/etc/passwd", "escape.txt", "rel-escape.txt",
		"outdir/secret.txt", "key.pem", "alias.txt", "inside.md", "pkg/../main.go", "./main.go", "", "..", "a\x00.go",
		"pkg/./notes.MD", "outdir/../main.go", `..\x.txt`} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		out, err := readFile(r, path)
		if err != nil {
			if c := omexerr.CategoryOf(err); c != omexerr.Input {
				t.Fatalf("%q: error %v is not an InputError", path, err)
			}
			return
		}
		switch out.Content {
		case "secret\n", "beside the root\n", "not allowed\n":
			t.Fatalf("%q: returned %q, which it must not", path, out.Content)
		case "package main\n", "# notes\n":
		default:
			t.Fatalf("%q: returned unexpected content %q", path, out.Content)
		}
		if strings.HasPrefix(out.Path, "/") || strings.HasPrefix(out.Path, "..") {
			t.Fatalf("%q: answered path %q", path, out.Path)
		}
	})
}

package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// FuzzParseRecord feeds arbitrary bytes to ParseRecord; a record that
// parses must be accepted or refused by Resume without panicking (Resume
// runs the remaining nodes of a tool-only container, so this stays fast).
func FuzzParseRecord(f *testing.F) {
	c := graphContainer(toolNode("a", "ok"), toolNode("b", "ok", "a"))
	rec, err := newRecord(c)
	if err != nil {
		f.Fatal(err)
	}
	rec.Node("a").Status = StatusCompleted
	rec.Node("a").Outputs = map[string]json.RawMessage{"result": json.RawMessage(`{"ok":true}`)}
	good, _ := json.Marshal(rec)
	f.Add(good)
	f.Add([]byte(`{"container_sha256":"x","nodes":[null]}`))
	f.Add([]byte(`{"container_sha256":"x","nodes":[{"id":"a"},{"id":"a"}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data, "fuzz.json")
		if err != nil {
			return
		}
		var calls counter
		out, err := Resume(context.Background(), c, r, Options{Tools: tools(okTool("ok", &calls)), RecordPath: filepath.Join(dir, "r.json")})
		if err == nil && out.Status != StatusCompleted {
			t.Fatalf("resume returned no error with status %s", out.Status)
		}
	})
}

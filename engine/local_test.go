package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

func TestChunkText(t *testing.T) {
	cases := []struct {
		in   string
		size int
		want []string
	}{
		{"", 10, []string{}},
		{"ab\ncd\nef\n", 6, []string{"ab\ncd\n", "ef\n"}},
		{"abcdefghij\nk", 4, []string{"abcd", "efgh", "ij\nk"}},
		{"ééé", 3, []string{"é", "é", "é"}}, // never split a character
		{"日本", 1, []string{"日", "本"}},       // a character longer than size stays whole
	}
	for _, tc := range cases {
		got := chunkText(tc.in, tc.size)
		if !slices.Equal(got, tc.want) {
			t.Errorf("chunkText(%q, %d) = %q, want %q", tc.in, tc.size, got, tc.want)
		}
		if strings.Join(got, "") != tc.in {
			t.Errorf("chunkText(%q) lost text", tc.in)
		}
	}
}

// TestLocalTaskPipeline chains chunk_text, assemble_summary and
// format_json on the container's context text.
func TestLocalTaskPipeline(t *testing.T) {
	c := graphContainer(
		container.Node{ID: "chunk", Executor: container.LocalCPU, Type: "chunk_text", MemoryAllocation: 16,
			Inputs: []string{container.RefContext, "size=12"}},
		container.Node{ID: "sum", Executor: container.LocalCPU, Type: "assemble_summary", MemoryAllocation: 16,
			Inputs: []string{"chunk.chunks", container.RefPrompt}, Dependencies: []string{"chunk"}},
		container.Node{ID: "out", Executor: container.LocalCPU, Type: "format_json", MemoryAllocation: 16,
			Inputs: []string{"chunks=chunk.chunks", "summary=sum.summary", `version=1`}, Dependencies: []string{"chunk", "sum"}},
	)
	c.InputData.Context = "first line\nsecond line\nthird"
	c.ExecutionGraph.EntryNode = "chunk"
	rec, err := Run(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Chunks  []string
		Summary string
		Version int
	}
	if err := json.Unmarshal(rec.Node("out").Outputs["json"], &out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Chunks, []string{"first line\n", "second line\n", "third"}) || out.Version != 1 {
		t.Fatalf("chunks %q, version %d", out.Chunks, out.Version)
	}
	if want := "chunks:\nfirst line\n\nsecond line\n\nthird\n\nprompt:\ngo\n"; out.Summary != want {
		t.Fatalf("summary %q, want %q", out.Summary, want)
	}
	// format_json keeps the inputs' order.
	if raw := string(rec.Node("out").Outputs["json"]); strings.Index(raw, `"chunks"`) > strings.Index(raw, `"version"`) {
		t.Fatalf("keys out of order: %s", raw)
	}
}

func TestParseSourceResolvesRelativePaths(t *testing.T) {
	c := graphContainer(container.Node{ID: "parse", Executor: container.LocalCPU, Type: "parse_source", MemoryAllocation: 64,
		Inputs: []string{"path=" + container.RefContext}})
	c.InputData.Context = "runtime/sample"
	rec, err := Run(context.Background(), c, Options{BaseDir: testfiles.RepoRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.Node("parse"); len(n.Notes) != 1 || !strings.HasPrefix(n.Notes[0], "indexed 4 files") {
		t.Fatalf("notes %v", n.Notes)
	}
	c.InputData.Context = "no/such/dir"
	rec, err = Run(context.Background(), c, Options{BaseDir: testfiles.RepoRoot(t)})
	if n := rec.Node("parse"); err == nil || n.ErrorCode != "input.source_path" || n.Attempts != 1 || !strings.Contains(n.Error, "no/such/dir") {
		t.Fatalf("missing path: %+v, %v", n, err)
	}
}

// TestBuildPromptFitsContext cuts long material to the model's context and
// keeps the guidance and the request whole.
func TestBuildPromptFitsContext(t *testing.T) {
	root := testfiles.RepoRoot(t)
	spec, err := importer.OpenTokenizer(filepath.Join(root, "testdata/stories260K/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Lily went to the park and saw a big dog.\n", 100)
	inputs := []Value{{"prompt", jsonString("What did Lily see?")}, {"story", jsonString(long)}}
	prompt, note, err := buildPrompt(tok, 512, 64, "Answer briefly.", inputs)
	if err != nil {
		t.Fatal(err)
	}
	n := len(tok.Encode(prompt, tokenizer.EncodeOptions{AddBOS: true}))
	if n > 512-64 || n < 400 || !strings.HasPrefix(prompt, "Answer briefly.\n\nLily went") || !strings.HasSuffix(prompt, "dog.\n...\n\nWhat did Lily see?") {
		t.Fatalf("%d tokens: %q", n, prompt)
	}
	if !strings.Contains(note, "to fit the model's 512-token context") {
		t.Fatalf("note %q", note)
	}
	short, note, err := buildPrompt(tok, 512, 64, "", []Value{{"prompt", jsonString("Once upon a time")}})
	if err != nil || short != "Once upon a time" || note != "" {
		t.Fatalf("short prompt: %q %q %v", short, note, err)
	}
	if _, _, err := buildPrompt(tok, 512, 64, long, inputs); err == nil {
		t.Fatal("guidance longer than the context was accepted")
	}
}

func TestModelErrorsAreNotRetried(t *testing.T) {
	c := summaryContainer(t)
	c.ModelReference.Path = filepath.Join(t.TempDir(), "missing.bin")
	rec, err := Run(context.Background(), c, Options{})
	n := rec.Node("summarize")
	if err == nil || n.Status != StatusFailed || n.Attempts != 1 || !strings.Contains(n.Error, "missing.bin") || rec.Node("report").Status != StatusSkipped {
		t.Fatalf("node %+v, err %v", n, err)
	}
}

func TestGenerationSettingsLayer(t *testing.T) {
	c := summaryContainer(t)
	tp, k, seed := float32(0.5), 7, uint64(9)
	n := c.Node("summarize")
	n.ModelConfig = &container.ModelConfig{TopP: &tp, TopK: &k, Seed: &seed, StopSequences: []string{"\n"}}
	gen := DefaultGeneration()
	opt := generationOptions(&task{c: c, node: n, gen: gen})
	if opt.MaxTokens != 24 || opt.Sampling.Temperature != 0 || opt.Sampling.TopP != 0.5 || opt.Sampling.TopK != 7 || opt.Sampling.Seed != 9 || !slices.Equal(opt.Stop, []string{"\n"}) || !opt.NoEcho {
		t.Fatalf("options %+v", opt)
	}
	c.ExecutionConfig = container.ExecutionConfig{}
	n.ModelConfig = nil
	opt = generationOptions(&task{c: c, node: n, gen: gen})
	if opt.MaxTokens != 256 || opt.Sampling.Temperature != 0.8 || opt.Sampling.TopK != 40 {
		t.Fatalf("defaults not applied: %+v", opt)
	}
}

func TestValueText(t *testing.T) {
	cases := map[string]string{`"a\nb"`: "a\nb", `["x","y"]`: "x\ny", `{"a": 1}`: `{"a":1}`, `2`: "2"}
	for in, want := range cases {
		if got := (Value{Data: json.RawMessage(in)}).Text(); got != want {
			t.Errorf("Text(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteFileAtomicLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "run.json")
	for _, s := range []string{"one", "two"} {
		if err := writeFileAtomic(path, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if string(got) != "two" || len(entries) != 1 {
		t.Fatalf("content %q, %d files", got, len(entries))
	}
}

// TestFieldReferences reads a field of a tool's object answer, and fails
// the reader (skipping its dependents) when the field is missing.
func TestFieldReferences(t *testing.T) {
	doc := funcTool{"doc", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"path": "a.txt", "content": "hello"}`), nil
	}}
	c := graphContainer(toolNode("a", "doc"),
		container.Node{ID: "b", Executor: container.LocalCPU, Type: "format_json", MemoryAllocation: 16,
			Inputs: []string{"a.result.content"}, Dependencies: []string{"a"}})
	rec, err := Run(context.Background(), c, Options{Tools: tools(doc)})
	if err != nil || strings.Join(strings.Fields(string(rec.Node("b").Outputs["json"])), "") != `{"content":"hello"}` {
		t.Fatalf("%v: %s", err, rec.Node("b").Outputs["json"])
	}
	c.Node("b").Inputs = []string{"a.result.body"}
	c.ExecutionGraph.Nodes = append(c.ExecutionGraph.Nodes, container.Node{ID: "c", Executor: container.LocalCPU, Type: "format_json",
		MemoryAllocation: 16, Inputs: []string{"b.json"}, Dependencies: []string{"b"}})
	rec, err = Run(context.Background(), c, Options{Tools: tools(doc)})
	if b := rec.Node("b"); err == nil || b.ErrorCode != "engine.missing_field" || !strings.Contains(b.Error, `no field "body"`) || rec.Node("c").Status != StatusSkipped {
		t.Fatalf("missing field: %+v, c %s, %v", b, rec.Node("c").Status, err)
	}
}

// refusingTool is a tool whose preflight says it cannot work here.
type refusingTool struct{ funcTool }

func (refusingTool) Preflight(context.Context) error {
	return errors.New("no sandbox: unshare is not permitted")
}

func TestPreflightRefusesBeforeStart(t *testing.T) {
	var calls counter
	recPath := filepath.Join(t.TempDir(), "run.json")
	c := graphContainer(toolNode("a", "ok"), toolNode("b", "code", "a"))
	ts := tools(okTool("ok", &calls))
	ts["code"] = refusingTool{okTool("code", &calls)}
	rec, err := Run(context.Background(), c, Options{Tools: ts, RecordPath: recPath})
	if rec != nil || err == nil || !strings.Contains(err.Error(), "no sandbox") || calls.get("ok") != 0 {
		t.Fatalf("record %v, err %v, calls %d", rec, err, calls.get("ok"))
	}
	if _, err := os.Stat(recPath); !os.IsNotExist(err) {
		t.Fatal("a refused run wrote a record")
	}
}

package engine

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/internal/testfiles"
)

// killContainer indexes omexerr, summarizes it, then waits in the "block"
// tool, then gathers a report.
func killContainer(t *testing.T) *container.Container {
	c := graphContainer(
		container.Node{ID: "parse", Executor: container.LocalCPU, Type: "parse_source", MemoryAllocation: 64,
			Inputs: []string{"path=" + container.RefContext}},
		container.Node{ID: "analysis", Executor: container.LocalCPU, Type: "assemble_summary", MemoryAllocation: 16,
			Inputs: []string{"parse.index"}, Dependencies: []string{"parse"}},
		container.Node{ID: "wait", Executor: container.ToolExecutor, Type: "block", MemoryAllocation: 16,
			Inputs: []string{"analysis.summary"}, Dependencies: []string{"analysis"}},
		container.Node{ID: "report", Executor: container.LocalCPU, Type: "format_json", MemoryAllocation: 16,
			Inputs: []string{"analysis.summary", "wait.result"}, Dependencies: []string{"analysis", "wait"}},
	)
	c.InputData.Context = filepath.Join(testfiles.RepoRoot(t), "omexerr")
	return c
}

// TestHelperKilledRun is the engine process the kill test starts and
// kills; it does nothing in a normal test run.
func TestHelperKilledRun(t *testing.T) {
	file, recPath := os.Getenv("OMEX_ENGINE_HELPER_CONTAINER"), os.Getenv("OMEX_ENGINE_HELPER_RECORD")
	if file == "" {
		t.Skip("only run by TestResumeAfterKill")
	}
	c, err := container.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	block := funcTool{"block", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	Run(context.Background(), c, Options{Tools: tools(block), RecordPath: recPath})
}

// TestResumeAfterKill kills (SIGKILL) an engine process while a node runs,
// then resumes from the record it left: the nodes that had finished are
// not run again, the interrupted one is.
func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	c := killContainer(t)
	file, recPath := filepath.Join(dir, "c.json"), filepath.Join(dir, "run.json")
	data, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledRun$")
	cmd.Env = append(os.Environ(), "OMEX_ENGINE_HELPER_CONTAINER="+file, "OMEX_ENGINE_HELPER_RECORD="+recPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if rec, err := LoadRecord(recPath); err == nil && rec.Node("wait").Status == StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine process never reached the wait node")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	rec, err := LoadRecord(recPath)
	if err != nil {
		t.Fatalf("the killed engine left no readable record: %v", err)
	}
	if rec.Status != StatusRunning || rec.Node("parse").Status != StatusCompleted || rec.Node("analysis").Status != StatusCompleted {
		t.Fatalf("record at the kill: run %s, parse %s, analysis %s", rec.Status, rec.Node("parse").Status, rec.Node("analysis").Status)
	}
	parseEnd := *rec.Node("parse").End
	var calls counter
	var starts []string
	c2, err := container.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	rec, err = Resume(context.Background(), c2, rec, Options{Tools: tools(okTool("block", &calls)), RecordPath: recPath,
		OnEvent: func(e Event) {
			if e.Kind == "start" {
				starts = append(starts, e.Node)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 || starts[0] != "wait" || starts[1] != "report" || calls.get("block") != 1 {
		t.Fatalf("resumed run started %v, block calls %d", starts, calls.get("block"))
	}
	for _, id := range []string{"parse", "analysis"} {
		if n := rec.Node(id); !n.Resumed || n.Attempts != 1 {
			t.Fatalf("%s after resume: %+v", id, n)
		}
	}
	if !rec.Node("parse").End.Equal(parseEnd) || rec.Status != StatusCompleted || rec.Runs != 2 {
		t.Fatalf("run %s, runs %d", rec.Status, rec.Runs)
	}
}

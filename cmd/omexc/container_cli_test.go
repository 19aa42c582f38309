package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// createSummaryContainer writes the acceptance container (summarize the
// omexerr package with stories260K) to dir/c.json.
func createSummaryContainer(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, "c.json")
	args := append([]string{"container", "create", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin",
		"-p", "Summarize the functions in this Go package", "--context", "omexerr", "--temp", "0", "-o", path}, extra...)
	if _, stderr, code := omexcEnv(t, repoRoot(t), nil, args...); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	return path
}

// cliRecord is the part of a run record the CLI tests read.
type cliRecord struct {
	Status      string
	Parallelism int
	Nodes       []struct {
		ID, Status      string
		Attempts        int
		Resumed         bool
		GeneratedTokens int `json:"generated_tokens"`
	}
}

func readRecord(t *testing.T, path string) cliRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r cliRecord
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestContainerCreateValidateRun(t *testing.T) {
	dir := t.TempDir()
	file := createSummaryContainer(t, dir, "-n", "8")
	out, stderr, code := omexcEnv(t, dir, nil, "container", "validate", file)
	if code != 0 || !strings.Contains(out, "4 nodes in order parse, analysis, summarize, report") {
		t.Fatalf("validate: exit %d: %s %s", code, out, stderr)
	}
	rec := filepath.Join(dir, "run.json")
	out, stderr, code = omexcEnv(t, dir, nil, "container", "run", file, "--record", rec)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	var report struct{ Functions, Summary string }
	if err := json.Unmarshal([]byte(out), &report); err != nil || !strings.Contains(report.Functions, "func New(c Category") || report.Summary == "" {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, want := range []string{"[parse] started", "[summarize] completed", "prompt + 8 generated tokens", "run completed: 4 of 4 nodes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	r := readRecord(t, rec)
	if r.Status != "completed" || len(r.Nodes) != 4 {
		t.Fatalf("record %+v", r)
	}
}

func TestContainerValidateReportsProblems(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.json")
	bad := `{"omex_version": "1.0", "container_id": "x", "container_type": "pipeline", "creation_timestamp": "2025-01-01T00:00:00Z",
	"model_reference": {"path": "m.bin"},
	"resources": {"max_memory_mb": 100, "max_compute_units": 1, "priority": "normal", "timeout_seconds": 5},
	"execution_graph": {"entry_node": "a", "nodes": [
		{"id": "a", "type": "format_json", "executor": "local_cpu", "inputs": ["input_data.prompt"], "memory_allocation": 10},
		{"id": "b", "type": "format_json", "executor": "local_cpu", "inputs": ["c.json"], "memory_allocation": 10, "dependencies": ["c"]},
		{"id": "c", "type": "format_json", "executor": "local_cpu", "inputs": ["b.json"], "memory_allocation": 10, "dependencies": ["b", "ghost"]},
		{"id": "d", "type": "magic", "executor": "gpu", "memory_allocation": 500}]},
	"input_data": {"prompt": "hi"},
	"completion_policy": {"retry_on_fail": true, "max_retries": 1, "retry_delay_ms": 10, "memory_pressure_strategy": "fail"}}`
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := omexcEnv(t, dir, nil, "container", "validate", file)
	if code != 11 {
		t.Fatalf("exit %d, want 11 (InputError): %s", code, stderr)
	}
	for _, want := range []string{
		"the container has 4 problems",
		`node "c" depends on "ghost", which is not a node`,
		`node "d": memory_allocation is 500 MB, over resources.max_memory_mb (100 MB)`,
		`node "d": executor "gpu" is not one of model_inference, local_cpu, tool`,
		"dependency cycle: b -> c -> b",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	os.WriteFile(file, []byte(`{"omex_version": "1.0", "nodes": []}`), 0o644)
	if _, stderr, code := omexcEnv(t, dir, nil, "container", "validate", file); code != 11 || !strings.Contains(stderr, `unknown field "nodes" in the container`) {
		t.Fatalf("unknown field: exit %d: %s", code, stderr)
	}
}

// TestContainerInterruptAndResume sends SIGINT while the model node runs:
// the run stops with the record marked cancelled, and --resume finishes
// without running the finished nodes again.
func TestContainerInterruptAndResume(t *testing.T) {
	dir := t.TempDir()
	file := createSummaryContainer(t, dir, "-n", "0") // generate until the context is full: long enough to interrupt
	rec := filepath.Join(dir, "run.json")
	cmd := omexcCmd(t, dir, nil, "container", "run", file, "--record", rec)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		progress.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "[summarize] started") {
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 14 {
		t.Fatalf("interrupted run: %v, want exit 14 (ExecutionError):\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "run cancelled: 2 of 4 nodes completed") {
		t.Fatalf("progress:\n%s", progress.String())
	}
	r := readRecord(t, rec)
	if r.Status != "cancelled" || r.Nodes[0].Status != "completed" || r.Nodes[2].Status != "cancelled" || r.Nodes[3].Status != "pending" {
		t.Fatalf("record after interrupt: %+v", r)
	}

	_, errOut, code := omexcEnv(t, dir, nil, "container", "run", file, "--record", rec, "--resume")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "[parse] started") || strings.Contains(errOut, "[analysis] started") || !strings.Contains(errOut, "[summarize] started") {
		t.Fatalf("resume reran finished nodes or skipped the rest:\n%s", errOut)
	}
	r = readRecord(t, rec)
	if r.Status != "completed" || !r.Nodes[0].Resumed || r.Nodes[0].Attempts != 1 || r.Nodes[2].Resumed {
		t.Fatalf("record after resume: %+v", r)
	}
}

// TestContainerConfigKeys shows the configuration keys the engine reads
// change what a run does: [device] memory_limit_mb refuses the container,
// [performance] max_compute_units caps parallelism, [storage] records_dir
// places the record, and [runtime] max_tokens fills a missing max_tokens.
func TestContainerConfigKeys(t *testing.T) {
	dir := t.TempDir()
	file := createSummaryContainer(t, dir, "-n", "4")
	_, stderr, code := omexcEnv(t, dir, []string{"OMEX_DEVICE_MEMORY_LIMIT_MB=64"}, "container", "run", file)
	if code != 11 || !strings.Contains(stderr, "this machine allows 64 MB ([device] memory_limit_mb)") {
		t.Fatalf("memory limit: exit %d: %s", code, stderr)
	}

	// [model] default_model and tokenizer stand in for MODEL and --tokenizer.
	root := repoRoot(t)
	modelEnv := []string{"OMEX_MODEL_DEFAULT_MODEL=" + filepath.Join(root, "testdata/stories260K/stories260K.bin"),
		"OMEX_MODEL_TOKENIZER=" + filepath.Join(root, "testdata/stories260K/tok512.bin")}
	out, stderr, code := omexcEnv(t, dir, modelEnv, "container", "create", "-p", "Once upon a time")
	if code != 0 || !strings.Contains(out, `"path": "`+filepath.Join(root, "testdata/stories260K/stories260K.bin")) || !strings.Contains(out, `"tokenizer": "`+filepath.Join(root, "testdata/stories260K/tok512.bin")) {
		t.Fatalf("create from [model]: exit %d: %s%s", code, out, stderr)
	}
	if _, stderr, code := omexcEnv(t, dir, nil, "container", "create", "-p", "Once upon a time"); code != 2 || !strings.Contains(stderr, "default_model") {
		t.Fatalf("create without a model: exit %d: %s", code, stderr)
	}

	// Widen the container, drop its max_tokens, and read the record.
	data, _ := os.ReadFile(file)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["resources"].(map[string]any)["max_compute_units"] = 4
	delete(doc["execution_config"].(map[string]any), "max_tokens")
	data, _ = json.Marshal(doc)
	os.WriteFile(file, data, 0o644)
	records := filepath.Join(dir, "records")
	env := []string{"OMEX_PERFORMANCE_MAX_COMPUTE_UNITS=2", "OMEX_STORAGE_RECORDS_DIR=" + records, "OMEX_RUNTIME_MAX_TOKENS=3"}
	if _, stderr, code := omexcEnv(t, dir, env, "container", "run", file); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	entries, _ := os.ReadDir(records)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "ctr-") {
		t.Fatalf("records_dir holds %v", entries)
	}
	r := readRecord(t, filepath.Join(records, entries[0].Name()))
	if r.Parallelism != 2 || r.Nodes[2].GeneratedTokens != 3 {
		t.Fatalf("parallelism %d (want 2), generated %d tokens (want 3)", r.Parallelism, r.Nodes[2].GeneratedTokens)
	}
}

// TestContainerZseiGuidance runs the summary container against an
// in-process ZSEI: its advice reaches the model's prompt when it answers;
// when it is down, slow or answers garbage the run completes and the record
// says why there was no guidance.
func TestContainerZseiGuidance(t *testing.T) {
	dir := t.TempDir()
	file := createSummaryContainer(t, dir, "-n", "4")
	var mu sync.Mutex
	var states []string
	guidance := `{"framework": "static-analysis-first", "execution_blueprint": {"steps": [
		{"node": "summarize", "guidance": "Name every exported function."}]}, "validation_criteria": ["every function is named"]}`
	handler := func(answer string, delay time.Duration) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/state" {
				var cp struct{ Event, Node string }
				json.NewDecoder(r.Body).Decode(&cp)
				mu.Lock()
				states = append(states, cp.Event+":"+cp.Node)
				mu.Unlock()
				return
			}
			select {
			case <-time.After(delay):
				io.WriteString(w, answer)
			case <-r.Context().Done(): // the client gave up
			}
		}
	}
	server := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	cases := []struct {
		name, url string
		wantNote  string
	}{
		{"answers", server(handler(guidance, 0)), `ZSEI guidance applied: framework "static-analysis-first"`},
		{"down", down.URL, "continuing without ZSEI guidance"},
		{"slow", server(handler(guidance, 2*time.Second)), "continuing without ZSEI guidance"},
		{"garbage", server(handler(`{"framework": 7`, 0)), "continuing without ZSEI guidance"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(dir, tc.name+".json")
			env := []string{"OMEX_ZSEI_ENABLED=true", "OMEX_ZSEI_HOST=" + tc.url, "OMEX_ZSEI_TIMEOUT_MS=300"}
			if _, stderr, code := omexcEnv(t, dir, env, "container", "run", file, "--record", rec); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			data, _ := os.ReadFile(rec)
			var r struct {
				Status   string
				Guidance []string
				Nodes    []struct {
					ID      string
					Outputs map[string]json.RawMessage
				}
			}
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(r.Guidance, "\n")
			if r.Status != "completed" || !strings.Contains(notes, tc.wantNote) {
				t.Fatalf("status %s, guidance notes:\n%s", r.Status, notes)
			}
			var prompt string
			json.Unmarshal(r.Nodes[2].Outputs["prompt"], &prompt)
			advised := strings.Contains(prompt, "Name every exported function.")
			if advised != (tc.name == "answers") {
				t.Fatalf("advice in the prompt: %v:\n%s", advised, prompt)
			}
			if tc.name == "answers" {
				mu.Lock()
				got := strings.Join(states, ",")
				mu.Unlock()
				if got != "checkpoint:parse,checkpoint:analysis,checkpoint:summarize,checkpoint:report,completion:" ||
					!strings.Contains(notes, "ZSEI completion synced") || !strings.Contains(notes, "validation criterion: every function is named") {
					t.Fatalf("states %s; notes:\n%s", got, notes)
				}
			}
		})
	}
}

// TestContainerFileContext plans and runs a file context: file_reader
// reads it within [security] file_root and the model gets its content;
// a file outside the root is refused when the container is created.
func TestContainerFileContext(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	file, rec := filepath.Join(dir, "c.json"), filepath.Join(dir, "run.json")
	create := []string{"container", "create", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin",
		"-p", "Tell me about this model", "--context", "testdata/stories260K/README.md", "-n", "4", "--temp", "0", "-o", file}
	if _, stderr, code := omexcEnv(t, root, nil, create...); code != 0 || !strings.Contains(stderr, "(read -> generate)") {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	if _, stderr, code := omexcEnv(t, root, nil, "container", "run", file, "--record", rec, "--json"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(rec)
	if !strings.Contains(string(data), `"prompt": "# stories260K`) {
		t.Fatalf("the model did not get the file's content:\n%.2000s", data)
	}
	_, stderr, code := omexcEnv(t, root, []string{"OMEX_SECURITY_FILE_ROOT=" + filepath.Join(root, "omexerr")}, create...)
	if code != 11 || !strings.Contains(stderr, "outside the file_reader root") {
		t.Fatalf("outside the root: exit %d: %s", code, stderr)
	}
}

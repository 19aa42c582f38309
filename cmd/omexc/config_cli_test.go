package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// runMetrics is the part of --metrics-json the tests read.
type runMetrics struct {
	GeneratedTokens int     `json:"generated_tokens"`
	TokensPerSecond float64 `json:"tokens_per_second"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	Threads         int     `json:"threads"`
	Cache           string  `json:"cache"`
	StopReason      string  `json:"stop_reason"`
	Sampling        struct {
		MaxTokens   int     `json:"max_tokens"`
		Temperature float32 `json:"temperature"`
		TopP        float32 `json:"top_p"`
		TopK        int     `json:"top_k"`
		Seed        uint64  `json:"seed"`
		SeedFixed   bool    `json:"seed_fixed"`
	} `json:"sampling"`
	WeightBytesPerToken int64    `json:"weight_bytes_per_token"`
	Insights            []string `json:"insights"`
}

// storyRun runs the bundled model with env and extra args, writing
// metrics to a file, and returns stdout and the metrics.
func storyRun(t *testing.T, env []string, args ...string) (string, runMetrics) {
	t.Helper()
	root := repoRoot(t)
	mj := filepath.Join(t.TempDir(), "m.json")
	full := append([]string{"run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", "Once upon a time", "--metrics-json", mj}, args...)
	out, stderr, code := omexcEnv(t, root, env, full...)
	if code != 0 {
		t.Fatalf("omexc %v: exit %d: %s", args, code, stderr)
	}
	var m runMetrics
	b, err := os.ReadFile(mj)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics JSON: %v\n%s", err, b)
	}
	return out, m
}

const greedyStory = "Once upon a time, there was a little girl named Lily."

// TestRuntimeKeysSetRunDefaults: each [runtime] key changes what `omexc
// run` does when its flag is absent, and the flag still wins.
func TestRuntimeKeysSetRunDefaults(t *testing.T) {
	out, m := storyRun(t, []string{"OMEX_RUNTIME_TEMPERATURE=0", "OMEX_RUNTIME_MAX_TOKENS=12"})
	if !strings.HasPrefix(out, "Once upon a time, there was") || m.GeneratedTokens != 12 || m.Sampling.Temperature != 0 || m.Sampling.MaxTokens != 12 {
		t.Fatalf("temperature/max_tokens from env: %q %+v", out, m)
	}
	greedy := out
	// The flag beats the configuration.
	if _, m := storyRun(t, []string{"OMEX_RUNTIME_MAX_TOKENS=12"}, "-n", "3", "--temp", "0"); m.GeneratedTokens != 3 {
		t.Fatalf("-n 3 over max_tokens=12 gave %d tokens", m.GeneratedTokens)
	}
	// top_k = 1 keeps only the best token: greedy even at temperature 1.
	out, m = storyRun(t, []string{"OMEX_RUNTIME_TOP_K=1", "OMEX_RUNTIME_TEMPERATURE=1", "OMEX_RUNTIME_MAX_TOKENS=12"})
	if out != greedy || m.Sampling.TopK != 1 {
		t.Fatalf("top_k=1 at temperature 1:\n%q\nwant greedy\n%q", out, greedy)
	}
	// A tiny top_p keeps only the best token too.
	out, m = storyRun(t, []string{"OMEX_RUNTIME_TOP_P=0.001", "OMEX_RUNTIME_TOP_K=0", "OMEX_RUNTIME_TEMPERATURE=1", "OMEX_RUNTIME_MAX_TOKENS=12"}, "--min-p", "0")
	if out != greedy || m.Sampling.TopP != 0.001 {
		t.Fatalf("top_p=0.001 at temperature 1:\n%q\nwant greedy\n%q", out, greedy)
	}
	// A configured seed makes sampling repeat; another seed changes it.
	seeded := []string{"OMEX_RUNTIME_SEED=7", "OMEX_RUNTIME_TEMPERATURE=1.5", "OMEX_RUNTIME_TOP_K=0", "OMEX_RUNTIME_MAX_TOKENS=40"}
	a, ma := storyRun(t, seeded)
	b, _ := storyRun(t, seeded)
	c, _ := storyRun(t, append(seeded, "OMEX_RUNTIME_SEED=8"))
	if a != b || a == c || ma.Sampling.Seed != 7 || !ma.Sampling.SeedFixed {
		t.Fatalf("seed 7 twice equal=%v, seed 8 differs=%v, metrics %+v", a == b, a != c, ma.Sampling)
	}
	// Without a seed, the clock seeds each run.
	if _, m := storyRun(t, []string{"OMEX_RUNTIME_MAX_TOKENS=1"}); m.Sampling.SeedFixed {
		t.Fatal("no configured seed, yet seed_fixed")
	}
}

// TestModelKeysNameTheModel: model.default_model stands in for MODEL and
// model.tokenizer for --tokenizer.
func TestModelKeysNameTheModel(t *testing.T) {
	root := repoRoot(t)
	home := t.TempDir()
	cfg := filepath.Join(home, "c.toml")
	write := func(text string) {
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(root, "testdata/stories260K/stories260K.bin")
	tok := filepath.Join(root, "testdata/stories260K/tok512.bin")
	write("[model]\ndefault_model = \"" + model + "\"\ntokenizer = \"" + tok + "\"\n[runtime]\ntemperature = 0.0\n")
	out, stderr, code := omexcEnv(t, root, []string{"HOME=" + home}, "--config", cfg, "run", "-p", "Once upon a time")
	if code != 0 || !strings.HasPrefix(out, greedyStory) {
		t.Fatalf("run without MODEL: exit %d %q %s", code, out, stderr)
	}
	// Without model.tokenizer the llama2.c checkpoint cannot be run.
	write("[model]\ndefault_model = \"" + model + "\"\n")
	_, stderr, code = omexcEnv(t, root, []string{"HOME=" + home}, "--config", cfg, "run", "-p", "x")
	if code != 11 || !strings.Contains(stderr, "input.tokenizer_required") {
		t.Fatalf("no tokenizer: exit %d %s", code, stderr)
	}
	// Without either, MODEL is required.
	_, stderr, code = omexcEnv(t, root, []string{"HOME=" + home}, "run", "-p", "x")
	if code != 2 || !strings.Contains(stderr, "model.default_model") {
		t.Fatalf("no model: exit %d %s", code, stderr)
	}
}

// TestResultCacheUsesStorageKeys: --cache stores a deterministic run under
// storage.cache_dir and replays it; cache_max_mb = 0 turns it off.
func TestResultCacheUsesStorageKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	env := []string{"OMEX_STORAGE_CACHE_DIR=" + dir}
	first, m1 := storyRun(t, env, "--temp", "0", "-n", "20", "--cache")
	second, m2 := storyRun(t, env, "--temp", "0", "-n", "20", "--cache")
	if m1.Cache != "miss" || m2.Cache != "hit" || first != second || m2.GeneratedTokens != 20 {
		t.Fatalf("caches %s then %s; outputs equal %v; %d tokens", m1.Cache, m2.Cache, first == second, m2.GeneratedTokens)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "entries", "*.json")); len(files) != 1 {
		t.Fatalf("cache_dir holds %v", files)
	}
	// Another prompt length is another key.
	if _, m := storyRun(t, env, "--temp", "0", "-n", "21", "--cache"); m.Cache != "miss" {
		t.Fatalf("-n 21 was a %s", m.Cache)
	}
	// Another engine (the reference runtime, another precision) is another key.
	if _, m := storyRun(t, env, "--temp", "0", "-n", "20", "--cache", "--reference"); m.Cache != "miss" {
		t.Fatalf("--reference was a %s", m.Cache)
	}
	if _, m := storyRun(t, env, "--temp", "0", "-n", "20", "--cache", "--quant", "q8_0"); m.Cache != "miss" {
		t.Fatalf("--quant q8_0 was a %s", m.Cache)
	}
	// A random run is never cached.
	if _, m := storyRun(t, env, "--temp", "1", "-n", "5", "--cache"); m.Cache != "off" {
		t.Fatalf("random run cache %s", m.Cache)
	}
	// cache_max_mb = 0: off, nothing written.
	off := filepath.Join(t.TempDir(), "off")
	if _, m := storyRun(t, []string{"OMEX_STORAGE_CACHE_DIR=" + off, "OMEX_STORAGE_CACHE_MAX_MB=0"}, "--temp", "0", "-n", "5", "--cache"); m.Cache != "off" {
		t.Fatalf("cache_max_mb=0 cache %s", m.Cache)
	}
	if _, err := os.Stat(off); !os.IsNotExist(err) {
		t.Fatal("cache_max_mb=0 created the cache directory")
	}
}

// TestThreadsSetGOMAXPROCS: performance.threads is the GOMAXPROCS of the run.
func TestThreadsSetGOMAXPROCS(t *testing.T) {
	for _, n := range []string{"1", "3"} {
		if _, m := storyRun(t, []string{"OMEX_PERFORMANCE_THREADS=" + n}, "-n", "2"); m.Threads != int(n[0]-'0') {
			t.Fatalf("threads=%s ran with GOMAXPROCS %d", n, m.Threads)
		}
	}
}

// TestLoggingKeys: level filters, format switches text/JSON, file sends
// the records there.
func TestLoggingKeys(t *testing.T) {
	log := filepath.Join(t.TempDir(), "omex.log")
	env := []string{"OMEX_LOGGING_LEVEL=debug", "OMEX_LOGGING_FORMAT=json", "OMEX_LOGGING_FILE=" + log}
	root := repoRoot(t)
	args := []string{"run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", "Once", "-n", "4", "--temp", "0"}
	_, stderr, code := omexcEnv(t, root, env, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q with logging.file set", code, stderr)
	}
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	found := false
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		found = found || (rec["msg"] == "run finished" && rec["generated_tokens"] == 4.0)
	}
	if !found {
		t.Fatalf("no run record in the log:\n%s", b)
	}
	// Text format on stderr.
	_, stderr, _ = omexcEnv(t, root, []string{"OMEX_LOGGING_LEVEL=debug"}, args...)
	if !strings.Contains(stderr, "level=DEBUG msg=\"run finished\"") {
		t.Fatalf("text debug log: %q", stderr)
	}
	// The default level (info) hides the debug records.
	if _, stderr, _ = omexcEnv(t, root, nil, args...); stderr != "" {
		t.Fatalf("info level wrote %q", stderr)
	}
}

// TestRunFormatsAndMetrics: --format json streams NDJSON events and a
// result; markdown fences the output; --metrics prints a summary line.
func TestRunFormatsAndMetrics(t *testing.T) {
	out, _ := storyRun(t, nil, "--temp", "0", "-n", "12", "--format", "json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var text strings.Builder
	var final map[string]any
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not NDJSON: %q", l)
		}
		if ev["event"] == "chunk" {
			text.WriteString(ev["text"].(string))
		} else {
			final = ev
		}
	}
	if len(lines) < 5 || !strings.HasPrefix(text.String(), "Once upon a time, there was") || final["output"] != text.String() || final["generated_tokens"] != 12.0 {
		t.Fatalf("json stream: %d lines, text %q, final %v", len(lines), text.String(), final)
	}
	out, _ = storyRun(t, nil, "--temp", "0", "-n", "12", "--format", "markdown")
	if !strings.HasPrefix(out, "# omexc run\n") || !strings.Contains(out, "```text\nOnce upon a time, there was") || !strings.Contains(out, "| generated tokens | 12 |") {
		t.Fatalf("markdown:\n%s", out)
	}
	root := repoRoot(t)
	_, stderr, code := omexcEnv(t, root, nil, "run", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin", "-p", "Once", "-n", "40", "--temp", "0", "--metrics")
	if code != 0 || !strings.Contains(stderr, "generated 40 tokens") || !strings.Contains(stderr, "peak RSS") || !strings.Contains(stderr, "insight: ") {
		t.Fatalf("--metrics: exit %d %q", code, stderr)
	}
	_, m := storyRun(t, nil, "--temp", "0", "-n", "40")
	if m.PeakRSSBytes < 1<<20 || m.WeightBytesPerToken <= 0 || m.TokensPerSecond <= 0 || len(m.Insights) == 0 {
		t.Fatalf("metrics %+v", m)
	}
}

// TestConfigCommand: show names sources and hides the token; validate
// accepts a good file and rejects a bad one with a suggestion.
func TestConfigCommand(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".omex"), 0o755)
	os.WriteFile(filepath.Join(home, ".omex", "config.toml"), []byte("[runtime]\ntop_k = 5\n"), 0o644)
	env := []string{"HOME=" + home, "OMEX_ZSEI_TOKEN=super-secret-token", "OMEX_RUNTIME_SEED=3"}
	out, stderr, code := omexcEnv(t, home, env, "config", "show")
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, stderr)
	}
	for _, want := range []string{"top_k = 5  # file", "seed = 3  # env OMEX_RUNTIME_SEED", `token = "<set>"  # env OMEX_ZSEI_TOKEN`, "temperature = 0.8  # default"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr, "super-secret-token") {
		t.Fatal("show printed the token")
	}
	out, _, code = omexcEnv(t, home, env, "config", "validate")
	if code != 0 || !strings.Contains(out, "OK: "+filepath.Join(home, ".omex", "config.toml")+" (1 keys set by the file, 2 by the environment)") {
		t.Fatalf("validate: exit %d %q", code, out)
	}
	bad := filepath.Join(home, "bad.toml")
	os.WriteFile(bad, []byte("[runtime]\ntemprature = 0.5\n"), 0o644)
	_, stderr, code = omexcEnv(t, home, env, "config", "validate", bad)
	if code != 17 || !strings.Contains(stderr, "unknown key runtime.temprature (did you mean runtime.temperature?)") {
		t.Fatalf("validate bad: exit %d %q", code, stderr)
	}
	// Every command reading the configuration refuses a bad one.
	_, stderr, code = omexcEnv(t, home, env, "--config", bad, "run", "x", "-p", "y")
	if code != 17 || !strings.Contains(stderr, "did you mean runtime.temperature?") {
		t.Fatalf("run with bad config: exit %d %q", code, stderr)
	}
	_, stderr, code = omexcEnv(t, home, env, "--config", filepath.Join(home, "none.toml"), "config", "show")
	if code != 17 || !strings.Contains(stderr, "config.not_found") {
		t.Fatalf("missing --config: exit %d %q", code, stderr)
	}
	_, stderr, code = omexcEnv(t, home, append(env, "OMEX_RUNTIME_TOP_P=2"), "config", "show")
	if code != 17 || !strings.Contains(stderr, "runtime.top_p 2 is out of range: allowed (0, 1]") || !strings.Contains(stderr, "OMEX_RUNTIME_TOP_P") {
		t.Fatalf("bad env: exit %d %q", code, stderr)
	}
}

// TestZseiTokenSentNeverLogged: OMEX_ZSEI_TOKEN reaches ZSEI as a bearer
// token during a container run, and neither the debug log, the output nor
// the run record holds it, even when ZSEI echoes it back in an error.
func TestZseiTokenSentNeverLogged(t *testing.T) {
	const token = "zsei-agent-token-5d1e"
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream rejected "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := createSummaryContainer(t, dir, "-n", "2")
	rec := filepath.Join(dir, "rec.json")
	env := []string{"OMEX_ZSEI_ENABLED=true", "OMEX_ZSEI_HOST=" + srv.URL, "OMEX_ZSEI_TOKEN=" + token, "OMEX_LOGGING_LEVEL=debug"}
	out, stderr, code := omexcEnv(t, dir, env, "container", "run", file, "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 || auth[0] != "Bearer "+token {
		t.Fatalf("ZSEI saw Authorization %q", auth)
	}
	record, _ := os.ReadFile(rec)
	var r struct{ Guidance []string }
	json.Unmarshal(record, &r)
	if notes := strings.Join(r.Guidance, "\n"); !strings.Contains(notes, "continuing without ZSEI guidance") || !strings.Contains(notes, "Bearer <redacted>") {
		t.Errorf("the record does not note the failed guidance:\n%s", notes)
	}
	if strings.Contains(out+stderr+string(record), token) {
		t.Fatalf("token leaked:\nstdout %s\nstderr %s\nrecord %s", out, stderr, record)
	}
	if !strings.Contains(stderr, "zsei") {
		t.Fatalf("no ZSEI records in the debug log:\n%s", stderr)
	}
}

// TestSecurityKeysBoundTools: [security] reaches the agent tools of a
// container run: allowed_extensions refuses a file file_reader would
// otherwise read, code_timeout_s stops a snippet, code_memory_mb makes an
// allocation fail. (file_root is tested by TestContainerFileContext,
// sandbox_required by the agent package's Preflight test: both settings
// run alike on a machine where the sandbox works.)
func TestSecurityKeysBoundTools(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	readC := filepath.Join(dir, "read.json")
	if _, stderr, code := omexcEnv(t, root, nil, "container", "create", "testdata/stories260K/stories260K.bin", "--tokenizer", "testdata/stories260K/tok512.bin",
		"-p", "Tell me", "--context", "testdata/stories260K/README.md", "-n", "2", "--temp", "0", "-o", readC); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	if _, stderr, code := omexcEnv(t, root, nil, "container", "run", readC, "--record", filepath.Join(dir, "r0.json")); code != 0 {
		t.Fatalf("read with the default extensions: exit %d: %s", code, stderr)
	}
	_, stderr, code := omexcEnv(t, root, []string{"OMEX_SECURITY_ALLOWED_EXTENSIONS=.go"}, "container", "run", readC, "--record", filepath.Join(dir, "r1.json"))
	if code != 14 || !strings.Contains(stderr, `extension ".md" is not allowed`) {
		t.Fatalf("allowed_extensions=.go: exit %d: %s", code, stderr)
	}

	// A container with one code_interpreter node: allocate 100 MB, then sleep 1.2 s.
	var doc map[string]any
	data, _ := os.ReadFile(readC)
	json.Unmarshal(data, &doc)
	doc["execution_graph"] = map[string]any{"entry_node": "code", "nodes": []any{map[string]any{
		"id": "code", "type": "code_interpreter", "executor": "tool", "outputs": []string{"result"}, "memory_allocation": 64, "dependencies": []string{},
		"inputs": []string{`language="python"`, `code="import time\nb = bytearray(100 << 20)\ntime.sleep(1.2)\nprint('done', len(b))"`},
	}}}
	doc["resources"].(map[string]any)["max_memory_mb"] = 64
	codeC := filepath.Join(dir, "code.json")
	data, _ = json.Marshal(doc)
	os.WriteFile(codeC, data, 0o644)
	type result struct {
		Stdout, Stderr string
		TimedOut       bool `json:"timed_out"`
	}
	run := func(env ...string) result {
		t.Helper()
		rec := filepath.Join(dir, "code-rec.json")
		_, stderr, code := omexcEnv(t, dir, env, "container", "run", codeC, "--record", rec)
		if code != 0 && strings.Contains(stderr, "sandbox") {
			t.Skipf("code_interpreter's sandbox is not available here: %s", stderr)
		}
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", env, code, stderr)
		}
		var r struct {
			Nodes []struct{ Outputs map[string]result }
		}
		b, _ := os.ReadFile(rec)
		if err := json.Unmarshal(b, &r); err != nil || len(r.Nodes) != 1 {
			t.Fatalf("record: %v\n%s", err, b)
		}
		return r.Nodes[0].Outputs["result"]
	}
	if r := run(); r.Stdout != "done 104857600\n" || r.TimedOut {
		t.Fatalf("defaults (10 s, 256 MB): %+v", r)
	}
	if r := run("OMEX_SECURITY_CODE_TIMEOUT_S=1"); !r.TimedOut {
		t.Fatalf("code_timeout_s=1: %+v", r)
	}
	if r := run("OMEX_SECURITY_CODE_MEMORY_MB=64"); !strings.Contains(r.Stderr, "MemoryError") {
		t.Fatalf("code_memory_mb=64: %+v", r)
	}
}

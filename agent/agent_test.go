package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// validAgent is a complete agent file in the stored schema.
const validAgent = `{
  "agent_id": "coder",
  "name": "Code assistant",
  "description": "Reads and runs code.",
  "capabilities": ["text_generation", "code_analysis"],
  "tools": [{"name": "file_reader", "description": "read files"}, {"name": "code_interpreter", "description": "run code"}],
  "memory_management": {"strategy": "sliding_window", "context_window_size": 2048},
  "response_format": {"type": "json"},
  "system_prompt": "You are a careful programmer."
}`

// writeAgents makes a package directory with the given agents/ files.
func writeAgents(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, format.AgentsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, format.AgentsDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadAgents(t *testing.T) {
	def, _ := json.Marshal(format.DefaultAgent(512))
	dir := writeAgents(t, map[string]string{"default_agent.json": string(def), "coder.json": validAgent, "README.txt": "not an agent"})
	agents, err := LoadAgents(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 2 || agents[0].AgentID != "coder" || agents[1].AgentID != "default" {
		t.Fatalf("got %d agents: %+v", len(agents), agents)
	}
	a := agents[0]
	if a.File != "agents/coder.json" || !a.HasTool(CodeInterpreterName) || a.HasTool("web_search") ||
		a.MemoryManagement.ContextWindowSize != 2048 || a.ResponseFormat.Type != "json" || a.SystemPrompt == "" {
		t.Errorf("coder: %+v", a)
	}
}

// A package the importer writes loads, default agent included; the
// history built from it uses the model's real tokenizer.
func TestLoadAgentsFromImportedPackage(t *testing.T) {
	td := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	src, err := importer.Open(filepath.Join(td, "stories260K.bin"), importer.OpenOptions{Tokenizer: filepath.Join(td, "tok512.bin")})
	if err != nil {
		t.Skipf("the bundled stories260K model cannot be opened: %v", err)
	}
	pkg := filepath.Join(t.TempDir(), "pkg")
	if err := importer.Import(src, pkg, importer.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	agents, err := LoadAgents(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].AgentID != "default" || agents[0].MemoryManagement.Strategy != StrategySlidingWindow {
		t.Fatalf("got %+v", agents)
	}
	spec, err := tokenizer.LoadLlama2cBin(filepath.Join(td, "tok512.bin"), 512)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int { return len(tok.Encode(s, tokenizer.EncodeOptions{})) }
	a := agents[0]
	a.MemoryManagement.ContextWindowSize = 60
	h, err := NewHistory(a, count)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := h.Add(RoleUser, "Once upon a time there was a little dog."); err != nil {
			t.Fatal(err)
		}
		if n := count(h.Prompt()); n > 60 {
			t.Fatalf("after %d messages the prompt has %d tokens for a window of 60", i+1, n)
		}
	}
	if h.Tokens() > 60 || len(h.Messages()) == 0 || len(h.Messages()) >= 20 {
		t.Errorf("kept %d messages, %d tokens", len(h.Messages()), h.Tokens())
	}
}

func TestLoadAgentsErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validAgent, old) {
			t.Fatalf("the fixture has no %q", old)
		}
		return strings.Replace(validAgent, old, new, 1)
	}
	cases := []struct {
		name, body, want string
	}{
		{"unknown tool", edit(`"name": "code_interpreter"`, `"name": "web_search"`), `field tools[1].name: unknown tool "web_search"`},
		{"repeated tool", edit(`"name": "code_interpreter"`, `"name": "file_reader"`), `field tools[1].name: tool "file_reader" is listed twice`},
		{"bad strategy", edit(`"sliding_window"`, `"full"`), `field memory_management.strategy: unknown strategy "full"`},
		{"no strategy", edit(`"strategy": "sliding_window", `, ``), `field memory_management.strategy: is missing`},
		{"zero window", edit(`2048`, `0`), `field memory_management.context_window_size: 0 is not between`},
		{"huge window", edit(`2048`, `99999999999`), `field memory_management.context_window_size`},
		{"negative window", edit(`2048`, `-5`), `field memory_management.context_window_size: -5`},
		{"window as text", edit(`2048`, `"2048"`), `field "memory_management.context_window_size"`},
		{"bad response", edit(`"json"`, `"xml"`), `field response_format.type: unknown response format "xml"`},
		{"no id", edit(`"coder"`, `""`), `field agent_id: is missing`},
		{"empty capability", edit(`"code_analysis"`, `""`), `field capabilities[1]: is empty`},
		{"repeated capability", edit(`"code_analysis"`, `"text_generation"`), `field capabilities[1]: "text_generation" is listed twice`},
		{"unknown field", edit(`"name": "Code assistant"`, `"nmae": "Code assistant"`), `unknown field "nmae"`},
		{"truncated", validAgent[:100], `unexpected EOF`},
		{"syntax", edit(`"Code assistant",`, `"Code assistant"`), `offset 55`},
		{"trailing", validAgent + ` {}`, `data after the agent object`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadAgents(writeAgents(t, map[string]string{"coder.json": c.body}))
			e, ok := omexerr.As(err)
			if !ok || e.Category != omexerr.Model || e.File != "agents/coder.json" {
				t.Fatalf("got %v, want a ModelError naming agents/coder.json", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want it to say %s", err, c.want)
			}
		})
	}
}

func TestLoadAgentsPackageErrors(t *testing.T) {
	if _, err := LoadAgents(t.TempDir()); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("no agents dir: got %v", err)
	}
	if _, err := LoadAgents(writeAgents(t, nil)); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("empty agents dir: got %v", err)
	}
	dup := writeAgents(t, map[string]string{"a.json": validAgent, "b.json": validAgent})
	if _, err := LoadAgents(dup); err == nil || !strings.Contains(err.Error(), `"coder" is already the id of agents/a.json`) {
		t.Errorf("duplicate ids: got %v", err)
	}
	dir := writeAgents(t, nil)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "agents", "link.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAgents(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a symlinked agent file: got %v", err)
	}
	big := writeAgents(t, map[string]string{"big.json": `{"agent_id": "` + strings.Repeat("x", maxAgentFileBytes) + `"}`})
	if _, err := LoadAgents(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("an over-size agent file: got %v", err)
	}
}

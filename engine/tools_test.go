package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/agent"
	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/internal/testfiles"
)

// agentTools are the agent package's real tools, reading within root.
func agentTools(root string) map[string]Tool {
	out := map[string]Tool{}
	for name, t := range agent.DefaultTools(agent.ToolConfig{Root: root, AllowedExtensions: []string{".md"}}) {
		out[name] = t
	}
	return out
}

// TestFileContextThroughFileReader runs create's plan for a text file:
// the file_reader tool reads it within its root and the model gets its
// content; a path out of the root is refused and not retried.
func TestFileContextThroughFileReader(t *testing.T) {
	root := testfiles.RepoRoot(t)
	maxTokens, temp := 8, float32(0)
	c, err := container.Create(filepath.Join(root, "testdata/stories260K/stories260K.bin"), "Tell me about this model",
		container.CreateOptions{Tokenizer: filepath.Join(root, "testdata/stories260K/tok512.bin"), Context: filepath.Join(root, "testdata/stories260K/README.md"), FileRoot: root,
			ExecutionConfig: container.ExecutionConfig{MaxTokens: &maxTokens, Temperature: &temp}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Node("read") == nil || c.InputData.Context != "testdata/stories260K/README.md" {
		t.Fatalf("create did not plan a file read: %+v", c.ExecutionGraph.Nodes)
	}
	rec, err := Run(context.Background(), c, Options{Tools: agentTools(root)})
	if err != nil {
		t.Fatal(err)
	}
	var prompt string
	json.Unmarshal(rec.Node("generate").Outputs["prompt"], &prompt)
	if !strings.Contains(prompt, "stories260K") || !strings.HasSuffix(prompt, "Tell me about this model") {
		t.Fatalf("the file's content is not in the prompt: %q", prompt)
	}

	c.InputData.Context = "../outside.md"
	rec, err = Run(context.Background(), c, Options{Tools: agentTools(root)})
	if n := rec.Node("read"); err == nil || n.Status != StatusFailed || n.Attempts != 1 || !strings.Contains(n.Error, "outside.md") {
		t.Fatalf("escape: %+v, %v", n, err)
	}
}

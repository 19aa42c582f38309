package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/internal/testfiles"
)

// summaryContainer is the acceptance container: summarize the functions of
// the omexerr package with the bundled stories260K model, greedy and short.
func summaryContainer(t testing.TB) *container.Container {
	t.Helper()
	root := testfiles.RepoRoot(t)
	maxTokens, temp := 24, float32(0)
	c, err := container.Create(filepath.Join(root, "testdata/stories260K/stories260K.bin"), "Summarize the functions in this Go package",
		container.CreateOptions{
			Tokenizer:       filepath.Join(root, "testdata/stories260K/tok512.bin"),
			Context:         filepath.Join(root, "omexerr"),
			ExecutionConfig: container.ExecutionConfig{MaxTokens: &maxTokens, Temperature: &temp},
			TimeoutSeconds:  60,
		})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// funcTool is a tool made of a function, for tests of the engine's
// scheduling, retries and limits.
type funcTool struct {
	name string
	fn   func(ctx context.Context, in json.RawMessage) (json.RawMessage, error)
}

func (f funcTool) Name() string { return f.name }
func (f funcTool) Call(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
	return f.fn(ctx, in)
}

// tools makes a tool set from funcTools.
func tools(ts ...funcTool) map[string]Tool {
	m := map[string]Tool{}
	for _, t := range ts {
		m[t.name] = t
	}
	return m
}

// toolNode is a tool node reading the prompt and its dependencies' results.
func toolNode(id, tool string, deps ...string) container.Node {
	n := container.Node{ID: id, Type: tool, Executor: container.ToolExecutor, MemoryAllocation: 16,
		Inputs: []string{container.RefPrompt}, Dependencies: deps}
	for _, d := range deps {
		n.Inputs = append(n.Inputs, d+"="+d+".result")
	}
	return n
}

// graphContainer wraps nodes in a container with generous limits; the
// first node is the entry.
func graphContainer(nodes ...container.Node) *container.Container {
	return &container.Container{
		OmexVersion: container.Version, ContainerID: "ctr-test", ContainerType: "pipeline",
		CreationTimestamp: time.Now().UTC().Format(time.RFC3339),
		Resources:         container.Resources{MaxMemoryMB: 256, MaxComputeUnits: 4, Priority: "normal", TimeoutSeconds: 10},
		ExecutionGraph:    container.Graph{EntryNode: nodes[0].ID, Nodes: nodes},
		InputData:         container.InputData{Prompt: "go"},
		CompletionPolicy:  container.CompletionPolicy{RetryOnFail: true, MaxRetries: 2, RetryDelayMS: 1, MemoryPressureStrategy: "fail"},
	}
}

// counter counts calls by name, safely from several goroutines.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
	return c.n[name]
}

func (c *counter) get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// okTool answers {"ok":true} and counts its calls.
func okTool(name string, calls *counter) funcTool {
	return funcTool{name, func(context.Context, json.RawMessage) (json.RawMessage, error) {
		calls.add(name)
		return json.RawMessage(`{"ok":true}`), nil
	}}
}

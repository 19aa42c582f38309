package engine

import (
	"context"
	"encoding/json"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// toolExecutor calls the agent tool a tool node names (its type) with an
// object of the node's inputs by name, and keeps the tool's JSON answer as
// the node's "result".
func toolExecutor(tools map[string]Tool) executor {
	return func(ctx context.Context, t *task) (*result, error) {
		tool := tools[t.node.Type]
		if tool == nil {
			return nil, omexerr.Configf("engine.no_tool", "node %q: the tool %q is not available", t.node.ID, t.node.Type)
		}
		input, err := objectOf(t.inputs)
		if err != nil {
			return nil, err
		}
		out, err := tool.Call(ctx, input)
		if err != nil {
			return nil, err
		}
		if !json.Valid(out) {
			return nil, omexerr.Executionf("engine.tool_output", "node %q: the tool %q answered with invalid JSON", t.node.ID, t.node.Type)
		}
		return &result{outputs: map[string]json.RawMessage{container.ToolOutput: out}}, nil
	}
}

// preflighter is a tool that can tell before a run that it would refuse
// every call (code_interpreter where no sandbox can be set up).
type preflighter interface {
	Preflight(ctx context.Context) error
}

// preflight asks each tool the container's tool nodes use whether it can
// work, so a run that would fail there is refused before anything starts.
func preflight(ctx context.Context, c *container.Container, tools map[string]Tool) error {
	checked := map[string]bool{}
	for _, n := range c.ExecutionGraph.Nodes {
		if n.Executor != container.ToolExecutor || checked[n.Type] {
			continue
		}
		checked[n.Type] = true
		if p, ok := tools[n.Type].(preflighter); ok {
			if err := p.Preflight(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

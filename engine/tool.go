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

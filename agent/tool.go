package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// Tool is something an agent, or an execution container's tool node, can
// call: JSON in, JSON out. Bad input is an InputError; a tool that cannot
// do its work (a sandbox that cannot be set up) is an ExecutionError.
type Tool interface {
	Name() string
	Description() string
	Call(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

// Preflighter is a Tool that can tell before a run starts that it would
// refuse every call (code_interpreter on a machine where the sandbox cannot
// be set up). A runner calls Preflight for the tools a run uses and refuses
// the run up front on an error.
type Preflighter interface {
	Preflight(ctx context.Context) error
}

// ToolConfig is what the tools may do: the [security] configuration
// section, given as values so this package does not depend on config.
type ToolConfig struct {
	// Root is the directory file_reader reads within ("" means the current
	// directory).
	Root string
	// AllowedExtensions are the only file extensions file_reader reads,
	// such as ".go"; case does not matter and the dot may be left out.
	AllowedExtensions []string
	// CodeTimeout is the wall-clock limit of one code_interpreter snippet
	// (0 means 10s). Go snippets get a separate, longer compile step.
	CodeTimeout time.Duration
	// CodeMemoryMB is the memory limit of one snippet (0 means 256).
	CodeMemoryMB int
	// SandboxRequired makes code_interpreter's Preflight check the sandbox
	// and fail when it cannot be set up, so a run that needs the tool is
	// refused before it starts. When false, Preflight passes and each call
	// refuses on its own. Either way code never runs unsandboxed.
	SandboxRequired bool
}

// Tool names.
const (
	FileReaderName      = "file_reader"
	CodeInterpreterName = "code_interpreter"
)

// ToolNames lists the tools this package provides, the names an agent file
// may list.
func ToolNames() []string {
	return []string{CodeInterpreterName, FileReaderName}
}

// DefaultTools returns every tool, by name, configured by cfg.
func DefaultTools(cfg ToolConfig) map[string]Tool {
	return map[string]Tool{
		FileReaderName:      newFileReader(cfg),
		CodeInterpreterName: newCodeInterpreter(cfg),
	}
}

// maxToolInput bounds a tool call's input JSON.
const maxToolInput = 1 << 20

// decodeInput decodes a tool's JSON input strictly: one object, no unknown
// fields, nothing after it. Errors are InputErrors naming the tool.
func decodeInput(tool string, input json.RawMessage, v any) error {
	if len(input) > maxToolInput {
		return omexerr.Inputf("input.tool_input", "%s: the input is %d bytes, over the %d-byte limit", tool, len(input), maxToolInput)
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return omexerr.Inputf("input.tool_input", "%s: invalid input", tool).Wrap(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return omexerr.Inputf("input.tool_input", "%s: data after the input object", tool)
	}
	return nil
}

// encodeOutput marshals a tool's answer; its types always marshal.
func encodeOutput(tool string, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, omexerr.Executionf("execution.tool_output", "%s: cannot encode the answer", tool).Wrap(err)
	}
	return b, nil
}

// Package agent is the agent layer of an OMEX package: the agents stored in
// its agents/*.json files, the conversation history each keeps within its
// context window, and the tools an agent (or an execution container's tool
// node) may call: file_reader and the sandboxed code_interpreter.
package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/omexerr"
)

// Memory strategies, the values of memory_management.strategy.
const (
	// StrategySlidingWindow drops the oldest messages to keep the history
	// within the context window; the system prompt always stays.
	StrategySlidingWindow = "sliding_window"
	// StrategyTruncate keeps every message and refuses one that would take
	// the history past the context window.
	StrategyTruncate = "truncate"
)

// Limits on an agent file, so a hostile package cannot make loading costly.
const (
	maxAgentFileBytes = 1 << 20
	maxContextWindow  = 1 << 24
)

// Agent is one agent of a package: the stored schema (format.Agent) and
// the package file it came from.
type Agent struct {
	format.Agent
	// File is the agent's file relative to the package, e.g.
	// "agents/default_agent.json".
	File string
}

// LoadAgents reads and checks every agents/*.json file of the package at
// pkgDir, in file name order. Agent ids must be unique. A missing agents
// directory, a file that is not valid JSON, has unknown fields or fails
// the checks of ParseAgent is a ModelError naming the file (and the field
// or byte offset).
func LoadAgents(pkgDir string) ([]*Agent, error) {
	dir := filepath.Join(pkgDir, format.AgentsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, omexerr.Modelf("model.missing_file", "cannot list the package's agents").WithFile(format.AgentsDir).Wrap(err)
	}
	var agents []*Agent
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		rel := format.AgentsDir + "/" + e.Name()
		data, err := readAgentFile(filepath.Join(dir, e.Name()), rel)
		if err != nil {
			return nil, err
		}
		a, err := ParseAgent(data, rel)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[a.AgentID]; dup {
			return nil, badAgent(rel, "agent_id", "%q is already the id of %s", a.AgentID, first)
		}
		seen[a.AgentID] = rel
		agents = append(agents, a)
	}
	if len(agents) == 0 {
		return nil, omexerr.Modelf("model.missing_file", "the package has no agents/*.json file").WithFile(format.AgentsDir)
	}
	return agents, nil
}

// readAgentFile reads one agent file: a regular file (not a symlink, which
// could point out of the package) of at most maxAgentFileBytes.
func readAgentFile(path, rel string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot stat").WithFile(rel).Wrap(err)
	}
	if !st.Mode().IsRegular() {
		return nil, omexerr.Modelf("model.bad_file", "not a regular file").WithFile(rel)
	}
	if st.Size() > maxAgentFileBytes {
		return nil, omexerr.Modelf("model.too_large", "%d bytes is over the %d-byte limit for an agent file", st.Size(), maxAgentFileBytes).WithFile(rel)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot open").WithFile(rel).Wrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAgentFileBytes+1))
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot read").WithFile(rel).Wrap(err)
	}
	if len(data) > maxAgentFileBytes {
		return nil, omexerr.Modelf("model.too_large", "over the %d-byte limit for an agent file", maxAgentFileBytes).WithFile(rel)
	}
	return data, nil
}

// ParseAgent decodes and checks one agent file's contents; file names it in
// errors. Unknown fields are refused (a misspelt key would otherwise be
// silently ignored), as are unknown tools, memory strategies and response
// formats, a non-positive or absurd context window, and empty or repeated
// capabilities and tools.
func ParseAgent(data []byte, file string) (*Agent, error) {
	a := &Agent{File: file}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a.Agent); err != nil {
		e := jsonError(err, file)
		if e.Offset < 0 {
			e.Offset = dec.InputOffset() // where the decoder stopped: the end for truncated input, the field for an unknown one
			if errors.Is(err, io.ErrUnexpectedEOF) {
				e.Offset = int64(len(data))
			}
		}
		return nil, e
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, omexerr.Modelf("model.bad_agent", "data after the agent object").WithFile(file).WithOffset(dec.InputOffset())
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// jsonError turns a decoding error into a ModelError with the offset when
// the decoder knows it.
func jsonError(err error, file string) *omexerr.Error {
	e := omexerr.Modelf("model.bad_agent", "invalid agent JSON").WithFile(file).Wrap(err)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		e.Offset = syn.Offset
	case errors.As(err, &typ):
		e.Offset = typ.Offset
		if typ.Field != "" {
			e.Msg = fmt.Sprintf("field %q: want a JSON %s, got %s", typ.Field, typ.Type, typ.Value)
		}
	}
	return e
}

// validate checks the fields the agent layer depends on.
func (a *Agent) validate() error {
	if strings.TrimSpace(a.AgentID) == "" {
		return badAgent(a.File, "agent_id", "is missing")
	}
	for i, c := range a.Capabilities {
		field := fmt.Sprintf("capabilities[%d]", i)
		if strings.TrimSpace(c) == "" {
			return badAgent(a.File, field, "is empty")
		}
		if slices.Index(a.Capabilities, c) < i {
			return badAgent(a.File, field, "%q is listed twice", c)
		}
	}
	known := ToolNames()
	for i, t := range a.Tools {
		field := fmt.Sprintf("tools[%d].name", i)
		if !slices.Contains(known, t.Name) {
			return badAgent(a.File, field, "unknown tool %q (known tools: %s)", t.Name, strings.Join(known, ", "))
		}
		if slices.IndexFunc(a.Tools, func(u format.Tool) bool { return u.Name == t.Name }) < i {
			return badAgent(a.File, field, "tool %q is listed twice", t.Name)
		}
	}
	mm := a.MemoryManagement
	switch mm.Strategy {
	case StrategySlidingWindow, StrategyTruncate:
	case "":
		return badAgent(a.File, "memory_management.strategy", "is missing (want %s or %s)", StrategySlidingWindow, StrategyTruncate)
	default:
		return badAgent(a.File, "memory_management.strategy", "unknown strategy %q (want %s or %s)", mm.Strategy, StrategySlidingWindow, StrategyTruncate)
	}
	if mm.ContextWindowSize <= 0 || mm.ContextWindowSize > maxContextWindow {
		return badAgent(a.File, "memory_management.context_window_size", "%d is not between 1 and %d tokens", mm.ContextWindowSize, maxContextWindow)
	}
	switch a.ResponseFormat.Type {
	case "text", "json":
	default:
		return badAgent(a.File, "response_format.type", "unknown response format %q (want text or json)", a.ResponseFormat.Type)
	}
	return nil
}

// HasTool reports whether the agent lists the tool.
func (a *Agent) HasTool(name string) bool {
	return slices.ContainsFunc(a.Tools, func(t format.Tool) bool { return t.Name == name })
}

// badAgent is a ModelError about one field of an agent file.
func badAgent(file, field, format string, args ...any) *omexerr.Error {
	return omexerr.Modelf("model.bad_agent", "field %s: %s", field, fmt.Sprintf(format, args...)).WithFile(file)
}

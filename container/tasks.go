package container

import "slices"

// The executors: the engine has one for each.
const (
	ModelInference = "model_inference" // the reference runtime: generate text with the model
	LocalCPU       = "local_cpu"       // built-in tasks run in process
	ToolExecutor   = "tool"            // an agent tool, named by the node's type
)

// Executors lists the executor names a node may use.
var Executors = []string{ModelInference, LocalCPU, ToolExecutor}

// DefaultTools are the agent tools a tool node may name when the caller
// does not say which tools it has.
var DefaultTools = []string{"file_reader", "code_interpreter"}

// Task describes one task type: which executor runs it, the outputs it
// produces and how many inputs it takes.
type Task struct {
	Executor  string
	Type      string
	Outputs   []string
	MinInputs int
	MaxInputs int // -1: any number
	Doc       string
}

// Tasks is the catalogue of built-in task types. Tool nodes are not listed:
// their type is the tool's name and their one output is "result".
var Tasks = []Task{
	{ModelInference, "generate", []string{"text", "prompt"}, 1, -1,
		"generate text; the prompt is the guidance, then the inputs in order (input_data.prompt last when listed)"},
	{LocalCPU, "parse_source", []string{"index"}, 1, 1,
		"index the Go and Python files under a path: files, types, functions with signatures and doc"},
	{LocalCPU, "chunk_text", []string{"chunks"}, 1, 2,
		"split a text into chunks of at most size bytes (input size=N, default 2000), at line breaks where lines fit"},
	{LocalCPU, "assemble_summary", []string{"summary"}, 1, -1,
		"assemble a plain-text summary from source indexes, texts and lists of texts"},
	{LocalCPU, "format_json", []string{"json"}, 1, -1,
		"gather the inputs into one JSON object keyed by input name"},
}

// ToolOutput is the one output of a tool node.
const ToolOutput = "result"

// TaskFor returns the task a node with this executor and type runs; tools
// are the tool names the tool executor can call.
func TaskFor(executor, typ string, tools []string) (Task, bool) {
	if executor == ToolExecutor {
		if slices.Contains(tools, typ) {
			return Task{ToolExecutor, typ, []string{ToolOutput}, 0, -1, "call the agent tool " + typ}, true
		}
		return Task{}, false
	}
	for _, t := range Tasks {
		if t.Executor == executor && t.Type == typ {
			return t, true
		}
	}
	return Task{}, false
}

// TypesFor lists the task types an executor runs.
func TypesFor(executor string, tools []string) []string {
	if executor == ToolExecutor {
		return tools
	}
	var out []string
	for _, t := range Tasks {
		if t.Executor == executor {
			out = append(out, t.Type)
		}
	}
	return out
}

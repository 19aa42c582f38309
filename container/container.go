// Package container is the execution container: a JSON document that packages
// a task as a graph of nodes (parse a source tree, analyse it, run a model,
// call a tool) with the resources it may use and what to do when a node fails.
// The engine package runs containers; this package parses, validates and
// creates them.
package container

// Version is the omex_version this package writes. Parse accepts any 1.x.
const Version = "1.0"

// Container is one execution container, field for field as it is stored.
type Container struct {
	OmexVersion       string           `json:"omex_version"`
	ContainerID       string           `json:"container_id"`
	ContainerType     string           `json:"container_type"`     // one of ContainerTypes
	CreationTimestamp string           `json:"creation_timestamp"` // RFC 3339
	ModelReference    ModelReference   `json:"model_reference"`    // the model model_inference nodes run
	ExecutionConfig   ExecutionConfig  `json:"execution_config"`   // generation settings for model_inference nodes
	Resources         Resources        `json:"resources"`          // what the whole run may use
	ExecutionGraph    Graph            `json:"execution_graph"`    // the nodes and their dependencies
	InputData         InputData        `json:"input_data"`         // the task's inputs, referenced as input_data.prompt / input_data.context
	CompletionPolicy  CompletionPolicy `json:"completion_policy"`  // retries and memory pressure handling
}

// ModelReference names the model and, for inputs that carry none (llama2.c
// checkpoints), its tokenizer. Relative paths are relative to the container
// file's directory.
type ModelReference struct {
	Path      string `json:"path"`
	Tokenizer string `json:"tokenizer,omitempty"`
}

// ExecutionConfig is the generation settings of model_inference nodes. A nil
// field was absent from the file: the engine fills it from its defaults
// (the [runtime] configuration section).
type ExecutionConfig struct {
	MaxTokens         *int     `json:"max_tokens,omitempty"`
	Temperature       *float32 `json:"temperature,omitempty"`
	TopP              *float32 `json:"top_p,omitempty"`
	RepetitionPenalty *float32 `json:"repetition_penalty,omitempty"`
	StopSequences     []string `json:"stop_sequences,omitempty"`
}

// Resources bound the run.
type Resources struct {
	// MaxMemoryMB is the memory budget of the run: the memory_allocation of
	// the nodes running at the same time never adds up to more.
	MaxMemoryMB int `json:"max_memory_mb"`
	// MaxComputeUnits is how many nodes may run at the same time (further
	// capped by the machine's [performance] max_compute_units).
	MaxComputeUnits int `json:"max_compute_units"`
	// Priority is one of Priorities; "low" runs one node at a time so the
	// container leaves the rest of the machine to other work.
	Priority string `json:"priority"`
	// TimeoutSeconds limits each attempt of each node; a node past it is
	// stopped and reported as timed_out. Fractions are allowed.
	TimeoutSeconds float64 `json:"timeout_seconds"`
}

// Graph is the task graph.
type Graph struct {
	EntryNode string `json:"entry_node"` // a node without dependencies, scheduled first
	Nodes     []Node `json:"nodes"`
}

// Node is one step of the task.
type Node struct {
	ID   string `json:"id"`
	Type string `json:"type"` // the task type within the executor (see Tasks)
	// Inputs are the values the node reads, each "ref" or "name=ref" or
	// "name=<JSON literal>", where ref is input_data.prompt,
	// input_data.context or NODE.OUTPUT (NODE must be a dependency).
	Inputs []string `json:"inputs"`
	// Outputs are the outputs of the task the node keeps (empty: all).
	Outputs  []string `json:"outputs"`
	Executor string   `json:"executor"` // one of Executors
	// MemoryAllocation is the node's memory budget in MB; the scheduler
	// reserves it while the node runs and the engine measures the node
	// against it.
	MemoryAllocation int      `json:"memory_allocation"`
	Dependencies     []string `json:"dependencies"`
	// Guidance is an instruction for the node: model_inference nodes put it
	// at the start of their prompt.
	Guidance    string       `json:"guidance,omitempty"`
	ModelConfig *ModelConfig `json:"model_config,omitempty"`
}

// ModelConfig overrides execution_config for one model_inference node.
type ModelConfig struct {
	MaxTokens         *int     `json:"max_tokens,omitempty"`
	Temperature       *float32 `json:"temperature,omitempty"`
	TopP              *float32 `json:"top_p,omitempty"`
	TopK              *int     `json:"top_k,omitempty"`
	RepetitionPenalty *float32 `json:"repetition_penalty,omitempty"`
	Seed              *uint64  `json:"seed,omitempty"`
	StopSequences     []string `json:"stop_sequences,omitempty"`
}

// InputData is the task's input.
type InputData struct {
	Prompt  string `json:"prompt"`
	Context string `json:"context,omitempty"` // free text, or a path (to a file or source tree)
}

// CompletionPolicy says what to do when a node fails.
type CompletionPolicy struct {
	RetryOnFail  bool `json:"retry_on_fail"`
	MaxRetries   int  `json:"max_retries"`
	RetryDelayMS int  `json:"retry_delay_ms"`
	// MemoryPressureStrategy is one of MemoryStrategies: what happens when a
	// node's measured memory passes its memory_allocation.
	MemoryPressureStrategy string `json:"memory_pressure_strategy"`
}

// The allowed values of the enumerated fields.
var (
	ContainerTypes   = []string{"inference", "pipeline"}
	Priorities       = []string{"low", "normal", "high"}
	MemoryStrategies = []string{"fail", "warn"}
)

// Node returns the node with this id, or nil.
func (c *Container) Node(id string) *Node {
	for i := range c.ExecutionGraph.Nodes {
		if c.ExecutionGraph.Nodes[i].ID == id {
			return &c.ExecutionGraph.Nodes[i]
		}
	}
	return nil
}

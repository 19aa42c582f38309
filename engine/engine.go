// Package engine runs execution containers: it schedules the graph's nodes
// in dependency order (independent nodes in parallel within the compute and
// memory budgets), runs each on its executor (model_inference, local_cpu,
// tool) with a per-attempt timeout, retries per the completion policy,
// measures each node's heap, and keeps a run record on disk after every node
// so an interrupted run resumes without redoing finished nodes.
package engine

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/runtime/sample"
)

// Tool is an agent tool the tool executor calls; it is the same method set
// as agent.Tool, so the agent package's tools are engine Tools as they are.
type Tool interface {
	Name() string
	Call(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

// Limits are the machine's and the configuration's bounds on a run.
type Limits struct {
	// MemoryLimitMB refuses containers whose resources.max_memory_mb is
	// larger ([device] memory_limit_mb); 0 means no limit.
	MemoryLimitMB int
	// MaxComputeUnits caps how many nodes run at once ([performance]
	// max_compute_units); 0 means runtime.NumCPU().
	MaxComputeUnits int
}

// Generation is the default generation settings for what a container's
// execution_config leaves out (the [runtime] configuration section).
type Generation struct {
	MaxTokens int
	Sampling  sample.Params // Seed 0 is used as is; callers pick a clock seed when they want one
}

// DefaultGeneration is [runtime]'s documented defaults: 256 tokens at
// temperature 0.8, top-p 0.95, top-k 40.
func DefaultGeneration() Generation {
	p := sample.Defaults()
	p.Temperature, p.TopP, p.TopK = 0.8, 0.95, 40
	return Generation{MaxTokens: 256, Sampling: p}
}

// Options configure a run.
type Options struct {
	Limits     Limits
	Generation Generation // the zero value means DefaultGeneration()
	// Tools are the tools tool nodes may call, by name.
	Tools map[string]Tool
	// RecordPath is where the run record is kept, rewritten atomically when
	// a node starts or ends; empty keeps it in memory only.
	RecordPath string
	// BaseDir resolves relative paths in the container (model, tokenizer,
	// parse_source paths): the container file's directory. Empty means the
	// working directory.
	BaseDir string
	// File names the container file in validation errors.
	File string
	// Advisor, when set, is asked for guidance before the run and told of
	// every node's end and of the run's completion (ZSEI).
	Advisor Advisor
	// OnEvent, when set, is told as nodes start, retry and end. Calls come
	// from several goroutines but never at the same time.
	OnEvent func(Event)
}

// Event is a step of the run, for progress display.
type Event struct {
	Kind   string     // "start", "retry" or "end"
	Node   string     // the node's id
	Record NodeRecord // a copy of the node's record after the step
}

// Run validates the container against the limits and runs it from the
// start. It returns the run record (nil only when the container was refused
// before anything started) and an error when the run did not complete.
func Run(ctx context.Context, c *container.Container, opt Options) (*Record, error) {
	rec, err := newRecord(c)
	if err != nil {
		return nil, err
	}
	return run(ctx, c, rec, opt)
}

// Resume continues a run from its record: completed nodes are not run
// again, their saved outputs feed the nodes that still have to run. The
// record must be of this container (same content hash).
func Resume(ctx context.Context, c *container.Container, rec *Record, opt Options) (*Record, error) {
	if err := rec.prepareResume(c); err != nil {
		return nil, err
	}
	return run(ctx, c, rec, opt)
}

// toolNames lists the tools' names, non-nil so validation with no tools
// refuses every tool node.
func toolNames(tools map[string]Tool) []string {
	names := []string{}
	for n := range tools {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// parallelism is how many nodes may run at once.
func parallelism(c *container.Container, lim Limits) int {
	if c.Resources.Priority == "low" {
		return 1 // a low-priority container leaves the rest of the machine to others
	}
	cap := lim.MaxComputeUnits
	if cap <= 0 {
		cap = runtime.NumCPU()
	}
	return max(1, min(c.Resources.MaxComputeUnits, cap))
}

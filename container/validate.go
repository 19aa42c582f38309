package container

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// MaxNodes bounds the graph so a hostile file cannot make validation or
// scheduling quadratic in an absurd node count.
const MaxNodes = 10000

// Limits are what the machine and configuration allow, checked by Validate.
type Limits struct {
	// MemoryLimitMB caps resources.max_memory_mb ([device] memory_limit_mb);
	// 0 means no cap.
	MemoryLimitMB int
	// Tools are the tool names tool nodes may use; nil means DefaultTools.
	Tools []string
}

// Problems is every problem Validate found, in document order. It is an
// error; omexerr.As finds its first problem (all are InputErrors), so the
// CLI exits with the InputError status.
type Problems []*omexerr.Error

// Error lists the problems, one a line.
func (p Problems) Error() string {
	var b strings.Builder
	if len(p) == 1 {
		b.WriteString("the container has 1 problem:")
	} else {
		fmt.Fprintf(&b, "the container has %d problems:", len(p))
	}
	for _, e := range p {
		b.WriteString("\n  - ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.As and errors.Is.
func (p Problems) Unwrap() []error {
	out := make([]error, len(p))
	for i, e := range p {
		out[i] = e
	}
	return out
}

// Validate checks the container against its own rules and the limits and
// returns every problem it finds as Problems, or nil. file names the
// container file in the errors (may be empty).
func (c *Container) Validate(file string, lim Limits) error {
	v := &validator{c: c, file: file, tools: lim.Tools}
	if v.tools == nil {
		v.tools = DefaultTools
	}
	v.header()
	v.config()
	v.resources(lim)
	v.graph()
	v.policy()
	if len(v.problems) == 0 {
		return nil
	}
	return v.problems
}

type validator struct {
	c        *Container
	file     string
	tools    []string
	problems Problems
}

func (v *validator) add(code, format string, args ...any) {
	v.problems = append(v.problems, omexerr.Inputf("container."+code, format, args...).WithFile(v.file))
}

func (v *validator) header() {
	c := v.c
	major, _, _ := strings.Cut(c.OmexVersion, ".")
	if wantMajor, _, _ := strings.Cut(Version, "."); major != wantMajor {
		v.add("version", "omex_version %q is not supported: this omexc reads %s.x", c.OmexVersion, wantMajor)
	}
	if strings.TrimSpace(c.ContainerID) == "" {
		v.add("bad_value", "container_id is empty")
	}
	if !slices.Contains(ContainerTypes, c.ContainerType) {
		v.add("bad_value", "container_type %q is not one of %s", c.ContainerType, strings.Join(ContainerTypes, ", "))
	}
	if _, err := time.Parse(time.RFC3339, c.CreationTimestamp); err != nil {
		v.add("bad_value", "creation_timestamp %q is not an RFC 3339 time (like 2025-01-02T15:04:05Z)", c.CreationTimestamp)
	}
	needsModel := slices.ContainsFunc(c.ExecutionGraph.Nodes, func(n Node) bool { return n.Executor == ModelInference })
	if needsModel && strings.TrimSpace(c.ModelReference.Path) == "" {
		v.add("bad_value", "model_reference.path is empty but the graph has model_inference nodes")
	}
}

// sampling checks generation settings shared by execution_config and a
// node's model_config; where says which.
func (v *validator) sampling(where string, maxTokens *int, temp, topP, penalty *float32) {
	if maxTokens != nil && *maxTokens < 0 {
		v.add("bad_value", "%s.max_tokens is %d; it must be >= 0 (0: until the context is full)", where, *maxTokens)
	}
	if temp != nil && (*temp < 0 || isBad32(*temp)) {
		v.add("bad_value", "%s.temperature is %v; it must be >= 0 (0: greedy)", where, *temp)
	}
	if topP != nil && (!(*topP > 0 && *topP <= 1) || isBad32(*topP)) {
		v.add("bad_value", "%s.top_p is %v; it must be in (0, 1]", where, *topP)
	}
	if penalty != nil && (!(*penalty > 0) || isBad32(*penalty)) {
		v.add("bad_value", "%s.repetition_penalty is %v; it must be > 0 (1: off)", where, *penalty)
	}
}

func isBad32(f float32) bool { return math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) }

func (v *validator) config() {
	e := v.c.ExecutionConfig
	v.sampling("execution_config", e.MaxTokens, e.Temperature, e.TopP, e.RepetitionPenalty)
	for i, s := range e.StopSequences {
		if s == "" {
			v.add("bad_value", "execution_config.stop_sequences[%d] is empty", i)
		}
	}
}

func (v *validator) resources(lim Limits) {
	r := v.c.Resources
	if r.MaxMemoryMB <= 0 {
		v.add("bad_value", "resources.max_memory_mb is %d; it must be > 0", r.MaxMemoryMB)
	} else if lim.MemoryLimitMB > 0 && r.MaxMemoryMB > lim.MemoryLimitMB {
		v.add("memory_over_ask", "resources.max_memory_mb is %d MB but this machine allows %d MB ([device] memory_limit_mb)", r.MaxMemoryMB, lim.MemoryLimitMB)
	}
	if r.MaxComputeUnits < 1 {
		v.add("bad_value", "resources.max_compute_units is %d; it must be >= 1", r.MaxComputeUnits)
	}
	if !slices.Contains(Priorities, r.Priority) {
		v.add("bad_value", "resources.priority %q is not one of %s", r.Priority, strings.Join(Priorities, ", "))
	}
	if !(r.TimeoutSeconds > 0) || math.IsInf(r.TimeoutSeconds, 0) || r.TimeoutSeconds > 7*24*3600 {
		v.add("bad_value", "resources.timeout_seconds is %v; it must be > 0 and at most a week", r.TimeoutSeconds)
	}
}

func (v *validator) policy() {
	p := v.c.CompletionPolicy
	if p.MaxRetries < 0 || p.MaxRetries > 100 {
		v.add("bad_value", "completion_policy.max_retries is %d; it must be in [0, 100]", p.MaxRetries)
	}
	if p.RetryDelayMS < 0 || p.RetryDelayMS > 3600_000 {
		v.add("bad_value", "completion_policy.retry_delay_ms is %d; it must be in [0, 3600000]", p.RetryDelayMS)
	}
	if !slices.Contains(MemoryStrategies, p.MemoryPressureStrategy) {
		v.add("bad_value", "completion_policy.memory_pressure_strategy %q is not one of %s", p.MemoryPressureStrategy, strings.Join(MemoryStrategies, ", "))
	}
}

func (v *validator) graph() {
	g := v.c.ExecutionGraph
	if len(g.Nodes) == 0 {
		v.add("empty_graph", "execution_graph.nodes is empty")
		return
	}
	if len(g.Nodes) > MaxNodes {
		v.add("too_many_nodes", "execution_graph has %d nodes; at most %d are allowed", len(g.Nodes), MaxNodes)
		return
	}
	byID := map[string]*Node{}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		switch {
		case !isNodeID(n.ID):
			v.add("bad_node_id", "execution_graph.nodes[%d]: id %q must be 1 to 128 letters, digits, '_' or '-'", i, n.ID)
		case byID[n.ID] != nil:
			v.add("duplicate_node", "execution_graph.nodes[%d]: id %q is used by an earlier node", i, n.ID)
		default:
			byID[n.ID] = n
		}
	}
	if entry := byID[g.EntryNode]; entry == nil {
		v.add("entry_node", "execution_graph.entry_node %q is not a node", g.EntryNode)
	} else if len(entry.Dependencies) > 0 {
		v.add("entry_node", "execution_graph.entry_node %q has dependencies (%s); the entry node must have none", g.EntryNode, strings.Join(entry.Dependencies, ", "))
	}
	for i := range g.Nodes {
		v.node(&g.Nodes[i], byID)
	}
	for _, cyc := range v.c.cycles() {
		if len(cyc) == 2 {
			v.add("cycle", "node %q depends on itself", cyc[0])
		} else {
			v.add("cycle", "dependency cycle: %s (each node depends on the next)", strings.Join(cyc, " -> "))
		}
	}
}

func (v *validator) node(n *Node, byID map[string]*Node) {
	res := v.c.Resources
	if n.MemoryAllocation <= 0 {
		v.add("bad_value", "node %q: memory_allocation is %d; it must be > 0 (MB)", n.ID, n.MemoryAllocation)
	} else if res.MaxMemoryMB > 0 && n.MemoryAllocation > res.MaxMemoryMB {
		v.add("memory_over_ask", "node %q: memory_allocation is %d MB, over resources.max_memory_mb (%d MB)", n.ID, n.MemoryAllocation, res.MaxMemoryMB)
	}
	deps := map[string]bool{}
	for _, d := range n.Dependencies {
		if deps[d] {
			v.add("duplicate_dependency", "node %q lists dependency %q twice", n.ID, d)
		}
		deps[d] = true
		if byID[d] == nil {
			v.add("missing_dependency", "node %q depends on %q, which is not a node", n.ID, d)
		}
	}
	if !slices.Contains(Executors, n.Executor) {
		v.add("unknown_executor", "node %q: executor %q is not one of %s", n.ID, n.Executor, strings.Join(Executors, ", "))
		return
	}
	task, ok := TaskFor(n.Executor, n.Type, v.tools)
	if !ok {
		types := TypesFor(n.Executor, v.tools)
		if n.Executor == ToolExecutor {
			have := "no tools are available"
			if len(types) > 0 {
				have = "tools: " + strings.Join(types, ", ")
			}
			v.add("unknown_type", "node %q: type %q is not a tool this engine has (%s)", n.ID, n.Type, have)
		} else {
			v.add("unknown_type", "node %q: type %q is not a %s task (types: %s)", n.ID, n.Type, n.Executor, strings.Join(types, ", "))
		}
		return
	}
	for _, o := range n.Outputs {
		if !slices.Contains(task.Outputs, o) {
			v.add("unknown_output", "node %q: output %q is not produced by %s (outputs: %s)", n.ID, o, n.Type, strings.Join(task.Outputs, ", "))
		}
	}
	if n.ModelConfig != nil {
		if n.Executor != ModelInference {
			v.add("bad_value", "node %q: model_config is only for model_inference nodes", n.ID)
		}
		m := n.ModelConfig
		v.sampling(fmt.Sprintf("node %q: model_config", n.ID), m.MaxTokens, m.Temperature, m.TopP, m.RepetitionPenalty)
		if m.TopK != nil && *m.TopK < 0 {
			v.add("bad_value", "node %q: model_config.top_k is %d; it must be >= 0 (0: all)", n.ID, *m.TopK)
		}
	}
	v.inputs(n, task, byID, deps)
}

func (v *validator) inputs(n *Node, task Task, byID map[string]*Node, deps map[string]bool) {
	if len(n.Inputs) < task.MinInputs || task.MaxInputs >= 0 && len(n.Inputs) > task.MaxInputs {
		want := fmt.Sprintf("%d to %d", task.MinInputs, task.MaxInputs)
		switch {
		case task.MaxInputs < 0:
			want = fmt.Sprintf("at least %d", task.MinInputs)
		case task.MinInputs == task.MaxInputs:
			want = fmt.Sprint(task.MinInputs)
		}
		v.add("bad_inputs", "node %q: %s takes %s inputs, got %d", n.ID, n.Type, want, len(n.Inputs))
	}
	names := map[string]bool{}
	for _, s := range n.Inputs {
		in, err := ParseInput(s)
		if err != nil {
			v.add("bad_input", "node %q: %v", n.ID, err)
			continue
		}
		if names[in.Name] {
			v.add("bad_input", "node %q: two inputs are named %q; name one with name=ref", n.ID, in.Name)
		}
		names[in.Name] = true
		if in.Node == "" {
			continue
		}
		src := byID[in.Node]
		switch {
		case src == nil:
			v.add("bad_input", "node %q: input %q reads node %q, which is not a node", n.ID, s, in.Node)
		case !deps[in.Node]:
			v.add("bad_input", "node %q: input %q reads node %q, which is not among its dependencies", n.ID, s, in.Node)
		default:
			if t, ok := TaskFor(src.Executor, src.Type, v.tools); ok && !slices.Contains(keptOutputs(src, t), in.Output) {
				v.add("bad_input", "node %q: input %q reads output %q, which node %q does not keep (it keeps: %s)", n.ID, s, in.Output, in.Node, strings.Join(keptOutputs(src, t), ", "))
			}
		}
	}
	if n.Type == "chunk_text" {
		v.chunkInputs(n)
	}
}

// chunkInputs checks chunk_text's inputs: one text and an optional size.
func (v *validator) chunkInputs(n *Node) {
	texts := 0
	for _, s := range n.Inputs {
		in, err := ParseInput(s)
		if err != nil {
			continue
		}
		if in.Name != "size" {
			texts++
			continue
		}
		if in.Literal == nil {
			v.add("bad_input", "node %q: size must be a number literal (size=2000)", n.ID)
		} else if size, ok := LiteralInt(in.Literal); !ok || size < 1 || size > 1<<24 {
			v.add("bad_input", "node %q: size %s must be an integer in [1, %d]", n.ID, in.Literal, 1<<24)
		}
	}
	if texts != 1 {
		v.add("bad_inputs", "node %q: chunk_text takes one text input (and an optional size), got %d texts", n.ID, texts)
	}
}

// keptOutputs is the outputs a node keeps: its declared outputs, or all of
// its task's when it declares none.
func keptOutputs(n *Node, t Task) []string {
	if len(n.Outputs) > 0 {
		return n.Outputs
	}
	return t.Outputs
}

// KeptOutputs is the outputs node n keeps (its declared outputs, or all its
// task's); ok is false when its executor or type is unknown.
func (c *Container) KeptOutputs(n *Node, tools []string) ([]string, bool) {
	if tools == nil {
		tools = DefaultTools
	}
	t, ok := TaskFor(n.Executor, n.Type, tools)
	if !ok {
		return nil, false
	}
	return keptOutputs(n, t), true
}

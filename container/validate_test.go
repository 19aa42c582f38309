package container

import (
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

func TestValidateFindsEveryProblem(t *testing.T) {
	c := codeContainer(t)
	c.Resources.MaxMemoryMB = 1000
	c.Resources.Priority = "urgent"
	c.CompletionPolicy.MemoryPressureStrategy = "panic"
	temp := float32(-1)
	c.ExecutionConfig.Temperature = &temp
	c.ExecutionGraph.EntryNode = "a"
	c.ExecutionGraph.Nodes = append(c.ExecutionGraph.Nodes,
		Node{ID: "a", Executor: LocalCPU, Type: "format_json", Inputs: []string{"c.json"}, MemoryAllocation: 10, Dependencies: []string{"c"}},
		Node{ID: "b", Executor: LocalCPU, Type: "format_json", Inputs: []string{"a.json"}, MemoryAllocation: 10, Dependencies: []string{"a"}},
		Node{ID: "c", Executor: LocalCPU, Type: "format_json", Inputs: []string{"b.json"}, MemoryAllocation: 10, Dependencies: []string{"b"}},
		Node{ID: "d", Executor: LocalCPU, Type: "format_json", Inputs: []string{"d.json"}, MemoryAllocation: 10, Dependencies: []string{"d"}},
		Node{ID: "e", Executor: "gpu", Type: "x", MemoryAllocation: 10, Dependencies: []string{"ghost"}},
		Node{ID: "f", Executor: LocalCPU, Type: "compile", MemoryAllocation: 4096},
		Node{ID: "g", Executor: ToolExecutor, Type: "web_search", MemoryAllocation: 10},
		Node{ID: "h", Executor: LocalCPU, Type: "assemble_summary", Inputs: []string{"parse.index", "analysis.text"}, Outputs: []string{"html"}, MemoryAllocation: 10, Dependencies: []string{"analysis"}},
		Node{ID: "parse", Executor: LocalCPU, Type: "format_json", Inputs: []string{RefPrompt}, MemoryAllocation: 10},
		Node{ID: "k", Executor: LocalCPU, Type: "chunk_text", Inputs: []string{"size=0", RefContext, RefPrompt}, MemoryAllocation: 10},
	)
	err := c.Validate("c.json", Limits{MemoryLimitMB: 512})
	var p Problems
	if !asProblems(err, &p) {
		t.Fatalf("want Problems, got %v", err)
	}
	if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Input {
		t.Fatalf("Problems must read as an InputError: %v", err)
	}
	want := []string{
		`[container.bad_value]: execution_config.temperature is -1; it must be >= 0`,
		`[container.memory_over_ask]: resources.max_memory_mb is 1000 MB but this machine allows 512 MB ([device] memory_limit_mb)`,
		`[container.bad_value]: resources.priority "urgent" is not one of low, normal, high`,
		`[container.entry_node]: execution_graph.entry_node "a" has dependencies (c); the entry node must have none`,
		`[container.missing_dependency]: node "e" depends on "ghost", which is not a node`,
		`[container.unknown_executor]: node "e": executor "gpu" is not one of model_inference, local_cpu, tool`,
		`[container.memory_over_ask]: node "f": memory_allocation is 4096 MB, over resources.max_memory_mb (1000 MB)`,
		`[container.unknown_type]: node "f": type "compile" is not a local_cpu task (types: parse_source, chunk_text, assemble_summary, format_json)`,
		`[container.unknown_type]: node "g": type "web_search" is not a tool this engine has (tools: file_reader, code_interpreter)`,
		`[container.unknown_output]: node "h": output "html" is not produced by assemble_summary (outputs: summary)`,
		`[container.bad_input]: node "h": input "parse.index" reads node "parse", which is not among its dependencies`,
		`[container.bad_input]: node "h": input "analysis.text" reads output "text", which node "analysis" does not keep (it keeps: summary)`,
		`[container.duplicate_node]: execution_graph.nodes[12]: id "parse" is used by an earlier node`,
		`[container.bad_inputs]: node "k": chunk_text takes 1 to 2 inputs, got 3`,
		`[container.bad_input]: node "k": size 0 must be an integer in [1, 16777216]`,
		`[container.bad_inputs]: node "k": chunk_text takes one text input (and an optional size), got 2 texts`,
		`[container.cycle]: dependency cycle: a -> c -> b -> a (each node depends on the next)`,
		`[container.cycle]: node "d" depends on itself`,
		`[container.bad_value]: completion_policy.memory_pressure_strategy "panic" is not one of fail, warn`,
	}
	for _, w := range want {
		if !slices.ContainsFunc(p, func(e *omexerr.Error) bool { return strings.Contains(e.Error(), w) && e.File == "c.json" }) {
			t.Errorf("missing problem %s", w)
		}
	}
	if len(p) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(p), len(want), err)
	}
}

func TestValidateAcceptsToolsItIsGiven(t *testing.T) {
	c := codeContainer(t)
	c.ExecutionGraph.Nodes = append(c.ExecutionGraph.Nodes,
		Node{ID: "t", Executor: ToolExecutor, Type: "flaky", Inputs: []string{"x=report.json"}, MemoryAllocation: 10, Dependencies: []string{"report"}})
	if err := c.Validate("", Limits{}); err == nil {
		t.Fatal("an unknown tool passed validation")
	}
	if err := c.Validate("", Limits{Tools: []string{"flaky"}}); err != nil {
		t.Fatal(err)
	}
}

func TestOrderPutsDependenciesFirst(t *testing.T) {
	c := &Container{ExecutionGraph: Graph{EntryNode: "z", Nodes: []Node{
		{ID: "join", Dependencies: []string{"left", "right"}},
		{ID: "left", Dependencies: []string{"z"}},
		{ID: "right"},
		{ID: "z"},
	}}}
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"z", "right", "left", "join"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	c.Node("z").Dependencies = []string{"join"}
	if _, err := c.Order(); err == nil {
		t.Fatal("a cycle was ordered")
	}
}

func TestParseInput(t *testing.T) {
	good := map[string]Input{
		"input_data.prompt":       {Name: "prompt", Ref: RefPrompt},
		"path=input_data.context": {Name: "path", Ref: RefContext},
		"parse.index":             {Name: "index", Ref: "parse.index", Node: "parse", Output: "index"},
		"size=2000":               {Name: "size", Literal: []byte("2000")},
		`lang="python"`:           {Name: "lang", Literal: []byte(`"python"`)},
	}
	for s, want := range good {
		got, err := ParseInput(s)
		if err != nil || got.Name != want.Name || got.Ref != want.Ref || got.Node != want.Node || got.Output != want.Output || !slices.Equal(got.Fields, want.Fields) || string(got.Literal) != string(want.Literal) {
			t.Errorf("ParseInput(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "x=", "2000", "input_data.other", "nodot", "1x=a.b", "a.b..c", "a.b.1", `x={"a":`, "a b.c"} {
		if _, err := ParseInput(s); err == nil {
			t.Errorf("ParseInput(%q) accepted", s)
		}
	}
}

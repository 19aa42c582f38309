package container

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

func TestCreateSourcePlan(t *testing.T) {
	c := codeContainer(t)
	if err := c.Validate("", Limits{}); err != nil {
		t.Fatal(err)
	}
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"parse", "analysis", "summarize", "report"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if c.Node("parse").Type != "parse_source" || c.Node("analysis").Executor != LocalCPU || c.Node("summarize").Executor != ModelInference {
		t.Fatalf("unexpected plan: %+v", c.ExecutionGraph.Nodes)
	}
	if c.ContainerType != "pipeline" || c.Resources.MaxComputeUnits != 1 {
		t.Fatalf("type %q, compute units %d", c.ContainerType, c.Resources.MaxComputeUnits)
	}
	// A chain runs one node at a time: the budget is its largest node.
	if c.Resources.MaxMemoryMB != c.Node("parse").MemoryAllocation {
		t.Fatalf("budget %d MB, want the largest node's %d", c.Resources.MaxMemoryMB, c.Node("parse").MemoryAllocation)
	}
	if !filepath.IsAbs(c.ModelReference.Path) || !filepath.IsAbs(c.ModelReference.Tokenizer) || !filepath.IsAbs(c.InputData.Context) {
		t.Fatalf("paths must be absolute: %+v %q", c.ModelReference, c.InputData.Context)
	}
	// What Create writes, Parse reads back the same.
	data, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, "created.json")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.JSON()
	if string(again) != string(data) {
		t.Fatalf("round trip changed the container:\n%s\n%s", data, again)
	}
}

func TestCreatePlans(t *testing.T) {
	root := testfiles.RepoRoot(t)
	model := filepath.Join(root, "testdata/stories260K/stories260K.bin")
	cases := []struct {
		context string
		nodes   []string
		typ     string
	}{
		{"", []string{"generate"}, "inference"},
		{"a little story about a cat", []string{"generate"}, "inference"},
		{filepath.Join(root, "runtime/sample/order.go"), []string{"parse", "analysis", "summarize", "report"}, "pipeline"},
		{filepath.Join(root, "testdata/stories260K/README.md"), []string{"read", "generate"}, "pipeline"},
	}
	for _, tc := range cases {
		c, err := Create(model, "Tell me", CreateOptions{Context: tc.context, FileRoot: root})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range c.ExecutionGraph.Nodes {
			ids = append(ids, n.ID)
		}
		if !slices.Equal(ids, tc.nodes) || c.ContainerType != tc.typ {
			t.Errorf("context %q: nodes %v type %q, want %v %q", tc.context, ids, c.ContainerType, tc.nodes, tc.typ)
		}
		if err := c.Validate("", Limits{}); err != nil {
			t.Errorf("context %q: %v", tc.context, err)
		}
	}
}

func TestCreateStoresFileContextRelativeToRoot(t *testing.T) {
	root := testfiles.RepoRoot(t)
	model := filepath.Join(root, "testdata/stories260K/stories260K.bin")
	readme := filepath.Join(root, "testdata/stories260K/README.md")
	c, err := Create(model, "Tell me", CreateOptions{Context: readme, FileRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if c.InputData.Context != "testdata/stories260K/README.md" {
		t.Fatalf("context %q", c.InputData.Context)
	}
	_, err = Create(model, "Tell me", CreateOptions{Context: readme, FileRoot: filepath.Join(root, "omexerr")})
	if err == nil || !strings.Contains(err.Error(), "outside the file_reader root") {
		t.Fatalf("a file outside the root: %v", err)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	root := testfiles.RepoRoot(t)
	model := filepath.Join(root, "testdata/stories260K/stories260K.bin")
	if _, err := Create(model, "  ", CreateOptions{}); err == nil || !strings.Contains(err.Error(), "prompt") {
		t.Fatalf("empty prompt: %v", err)
	}
	if _, err := Create(filepath.Join(root, "no-such-model.bin"), "hi", CreateOptions{}); err == nil || !strings.Contains(err.Error(), "no-such-model.bin") {
		t.Fatalf("missing model: %v", err)
	}
	if _, err := Create(model, "hi", CreateOptions{Tokenizer: "/no/such/tok.bin"}); err == nil || !strings.Contains(err.Error(), "--tokenizer") {
		t.Fatalf("missing tokenizer: %v", err)
	}
}

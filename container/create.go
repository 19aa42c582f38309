package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// CreateOptions are what Create needs besides the model and the prompt.
type CreateOptions struct {
	Tokenizer string // tokenizer file for models that carry none (llama2.c checkpoints)
	// Context is the task's context: a source tree or file to work on, another
	// file to read, or free text.
	Context string
	// ExecutionConfig is copied into the container; callers fill it from the
	// [runtime] configuration so the container says how it will generate.
	ExecutionConfig ExecutionConfig
	// FileRoot is the directory the file_reader tool reads within
	// ([security] file_root; empty means the working directory): a file
	// context is stored relative to it and must be inside it.
	FileRoot string
	// TimeoutSeconds is each node's time limit; 0 means 600.
	TimeoutSeconds float64
}

// Create plans a container for a prompt over a model. The plan follows the
// context: none or free text gives one model_inference node; a directory or
// a Go or Python file gives parse (index the source) -> analysis (assemble a
// summary of its functions) -> summarize (the model) -> report (JSON of
// both); any other file is read with the file_reader tool and given to the
// model. Paths are stored absolute, except a file_reader path, which is
// stored relative to the tool's root (opt.FileRoot).
func Create(modelPath, prompt string, opt CreateOptions) (*Container, error) {
	if strings.TrimSpace(prompt) == "" {
		return nil, omexerr.Inputf("input.empty_prompt", "the container needs a prompt").WithFlag("--prompt")
	}
	if modelPath == "" {
		return nil, omexerr.Inputf("input.no_model", "no model given (and no [model] default_model configured)")
	}
	modelAbs, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, omexerr.Inputf("input.bad_path", "cannot resolve the model path").WithFile(modelPath).Wrap(err)
	}
	modelMB, err := pathSizeMB(modelAbs)
	if err != nil {
		return nil, omexerr.Inputf("input.no_model", "cannot read the model").WithFile(modelPath).Wrap(err)
	}
	ref := ModelReference{Path: modelAbs}
	if opt.Tokenizer != "" {
		if ref.Tokenizer, err = filepath.Abs(opt.Tokenizer); err != nil {
			return nil, omexerr.Inputf("input.bad_path", "cannot resolve the tokenizer path").WithFile(opt.Tokenizer).WithFlag("--tokenizer").Wrap(err)
		}
		if _, err := os.Stat(ref.Tokenizer); err != nil {
			return nil, omexerr.Inputf("input.no_tokenizer", "cannot read the tokenizer").WithFile(opt.Tokenizer).WithFlag("--tokenizer").Wrap(err)
		}
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	c := &Container{
		OmexVersion:       Version,
		ContainerID:       id,
		CreationTimestamp: time.Now().UTC().Format(time.RFC3339),
		ModelReference:    ref,
		ExecutionConfig:   opt.ExecutionConfig,
		InputData:         InputData{Prompt: prompt},
		CompletionPolicy: CompletionPolicy{
			RetryOnFail: true, MaxRetries: 2, RetryDelayMS: 500, MemoryPressureStrategy: "fail",
		},
	}
	modelNode := Node{
		ID: "generate", Type: "generate", Executor: ModelInference,
		Inputs: []string{RefPrompt}, Outputs: []string{"text", "prompt"},
		// Weights, a KV cache and scratch: about twice the file, plus room
		// for the Go heap's own slack.
		MemoryAllocation: 2*modelMB + 64,
	}
	var nodes []Node
	switch kind, abs := contextKind(opt.Context); kind {
	case "none":
		nodes = []Node{modelNode}
	case "text":
		c.InputData.Context = opt.Context
		modelNode.Inputs = []string{RefContext, RefPrompt}
		nodes = []Node{modelNode}
	case "source":
		c.InputData.Context = abs
		modelNode.ID = "summarize"
		modelNode.Inputs = []string{"analysis.summary", RefPrompt}
		modelNode.Dependencies = []string{"analysis"}
		modelNode.Guidance = "Here is an index of the functions in a source package. Answer the request after it."
		nodes = []Node{
			{ID: "parse", Type: "parse_source", Executor: LocalCPU, Inputs: []string{"path=" + RefContext},
				Outputs: []string{"index"}, MemoryAllocation: 128},
			{ID: "analysis", Type: "assemble_summary", Executor: LocalCPU, Inputs: []string{"parse.index"},
				Outputs: []string{"summary"}, MemoryAllocation: 64, Dependencies: []string{"parse"}},
			modelNode,
			{ID: "report", Type: "format_json", Executor: LocalCPU,
				Inputs:  []string{"functions=analysis.summary", "summary=summarize.text"},
				Outputs: []string{"json"}, MemoryAllocation: 64, Dependencies: []string{"analysis", "summarize"}},
		}
	case "file":
		rel, err := relativeTo(opt.FileRoot, abs)
		if err != nil {
			return nil, omexerr.Inputf("input.context_outside_root", "the context file is outside the file_reader root %q ([security] file_root)", opt.FileRoot).WithFile(opt.Context).WithFlag("--context").Wrap(err)
		}
		c.InputData.Context = rel
		modelNode.Inputs = []string{"read.result.content", RefPrompt}
		modelNode.Dependencies = []string{"read"}
		nodes = []Node{
			{ID: "read", Type: "file_reader", Executor: ToolExecutor, Inputs: []string{"path=" + RefContext},
				Outputs: []string{ToolOutput}, MemoryAllocation: 64},
			modelNode,
		}
	}
	for i := range nodes {
		if nodes[i].Dependencies == nil {
			nodes[i].Dependencies = []string{} // written as [], not null
		}
	}
	c.ExecutionGraph = Graph{EntryNode: nodes[0].ID, Nodes: nodes}
	c.ContainerType = "pipeline"
	if len(nodes) == 1 {
		c.ContainerType = "inference"
	}
	width, budget := c.parallelWidth()
	timeout := opt.TimeoutSeconds
	if timeout <= 0 {
		timeout = 600
	}
	c.Resources = Resources{MaxMemoryMB: budget, MaxComputeUnits: width, Priority: "normal", TimeoutSeconds: timeout}
	return c, nil
}

// contextKind classifies the context: "none", "text" (not a path),
// "source" (a directory, .go or .py file) or "file" (another file); abs is
// the absolute path for paths.
func contextKind(ctx string) (kind, abs string) {
	if strings.TrimSpace(ctx) == "" {
		return "none", ""
	}
	st, err := os.Stat(ctx)
	if err != nil {
		return "text", ""
	}
	abs, err = filepath.Abs(ctx)
	if err != nil {
		return "text", ""
	}
	ext := strings.ToLower(filepath.Ext(ctx))
	if st.IsDir() || ext == ".go" || ext == ".py" {
		return "source", abs
	}
	return "file", abs
}

// relativeTo returns path relative to root (the working directory when
// root is empty), failing when it is not inside root.
func relativeTo(root, path string) (string, error) {
	if root == "" {
		root = "."
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absRoot, path)
	if err != nil {
		return "", err
	}
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is not under %s", path, absRoot)
	}
	return filepath.ToSlash(rel), nil
}

// parallelWidth groups the nodes by depth (nodes at the same depth can run
// at the same time) and returns the widest group's size and the largest
// group's total memory_allocation: the compute units and memory budget that
// let the plan run at full width.
func (c *Container) parallelWidth() (width, memMB int) {
	depth := map[string]int{}
	order, err := c.Order()
	if err != nil {
		return 1, 0
	}
	count := map[int]int{}
	mem := map[int]int{}
	for _, id := range order {
		n := c.Node(id)
		d := 0
		for _, dep := range n.Dependencies {
			d = max(d, depth[dep]+1)
		}
		depth[id] = d
		count[d]++
		mem[d] += n.MemoryAllocation
		width = max(width, count[d])
		memMB = max(memMB, mem[d])
	}
	return width, memMB
}

// pathSizeMB is the size of a file, or of the files directly in a
// directory's files (an OMEX package or Hugging Face folder), rounded up
// to MB.
func pathSizeMB(path string) (int, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if st.IsDir() {
		size = 0
		err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
				size += info.Size()
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return int((size + (1<<20 - 1)) >> 20), nil
}

func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", omexerr.Executionf("container.id", "cannot make a container id").Wrap(err)
	}
	return "ctr-" + hex.EncodeToString(b[:]), nil
}

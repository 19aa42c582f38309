package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/agent"
	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/engine"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/zsei"
)

func newContainerCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "container",
		Short: "Create, validate and run execution containers",
		Long: `An execution container is a JSON document that packages a task as a graph of
nodes (parse a source tree, assemble a summary, run the model, call a tool)
with the resources it may use and a completion policy (docs/CONTAINERS.md).`,
	}
	c.AddCommand(newContainerCreateCmd(), newContainerValidateCmd(), newContainerRunCmd())
	return c
}

func newContainerCreateCmd() *cobra.Command {
	var (
		prompt, contextArg, tokPath, out string
		maxTokens                        int
		temp                             float32
	)
	c := &cobra.Command{
		Use:   "create [MODEL] -p PROMPT [--context PATH] [-o FILE]",
		Short: "Plan a container for a prompt over a model",
		Long: `create plans a container: with no context, or a context that is not a path,
one model_inference node; with a directory or a Go or Python file as context,
parse (index the source) -> analysis (summary of its functions) -> summarize
(the model) -> report (JSON); with another file, file_reader -> the model.
MODEL defaults to [model] default_model; generation settings default to
[runtime].`,
		Example: `  omexc container create testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin \
      -p "Summarize the functions in this Go package" --context ./omexerr -o summary.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			model := cfg.Model.DefaultModel
			if len(args) == 1 {
				model = args[0]
			}
			if model == "" {
				return usageError{fmt.Errorf("no MODEL given and no [model] default_model configured")}
			}
			if tokPath == "" {
				tokPath = cfg.Model.Tokenizer // [model] tokenizer stands in for --tokenizer, as in omexc run
			}
			ec := container.ExecutionConfig{MaxTokens: &cfg.Runtime.MaxTokens}
			t, p := float32(cfg.Runtime.Temperature), float32(cfg.Runtime.TopP)
			ec.Temperature, ec.TopP = &t, &p
			if cmd.Flags().Changed("n") {
				ec.MaxTokens = &maxTokens
			}
			if cmd.Flags().Changed("temp") {
				ec.Temperature = &temp
			}
			ctr, err := container.Create(model, prompt, container.CreateOptions{Tokenizer: tokPath, Context: contextArg, ExecutionConfig: ec, FileRoot: cfg.Security.FileRoot})
			if err != nil {
				return err
			}
			if err := ctr.Validate("", containerLimits(cfg)); err != nil {
				return err
			}
			data, err := ctr.JSON()
			if err != nil {
				return omexerr.Executionf("container.encode", "cannot encode the container").Wrap(err)
			}
			if out == "" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := writeFileAtomicCLI(out, data); err != nil {
				return omexerr.Resourcef("output.write", "cannot write the container").WithFile(out).Wrap(err)
			}
			order, _ := ctr.Order()
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: container %s, %d nodes (%s)\n", out, ctr.ContainerID, len(order), strings.Join(order, " -> "))
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&prompt, "prompt", "p", "", "the task's prompt")
	f.StringVar(&contextArg, "context", "", "a source tree or file to work on, or free text")
	f.StringVar(&tokPath, "tokenizer", "", "tokenizer file (needed for llama2.c checkpoints; default [model] tokenizer)")
	f.StringVarP(&out, "output", "o", "", "write the container to this file (default: standard output)")
	f.IntVarP(&maxTokens, "n", "n", 0, "max_tokens of the container (default [runtime] max_tokens)")
	f.Float32Var(&temp, "temp", 0, "temperature of the container (default [runtime] temperature)")
	return c
}

func newContainerValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a container: syntax, graph, executors, types and resources",
		Long: `validate reports every problem of a container at once: unknown fields, cycles
(with their path), missing dependencies, unknown executors or task types,
inputs that read nothing, and memory over-asks (a node over the run's budget,
the budget over [device] memory_limit_mb).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			ctr, err := container.Load(args[0])
			if err != nil {
				return err
			}
			if err := ctr.Validate(args[0], containerLimits(cfg)); err != nil {
				return err
			}
			order, _ := ctr.Order()
			fmt.Fprintf(cmd.OutOrStdout(), "OK: %s: container %s, %d nodes in order %s; %d compute units, %d MB\n",
				args[0], ctr.ContainerID, len(order), strings.Join(order, ", "), ctr.Resources.MaxComputeUnits, ctr.Resources.MaxMemoryMB)
			return nil
		},
	}
}

func newContainerRunCmd() *cobra.Command {
	var (
		recordPath string
		resume     bool
		asJSON     bool
	)
	c := &cobra.Command{
		Use:   "run FILE [--record FILE] [--resume]",
		Short: "Run a container and keep its run record",
		Long: `run executes a container's graph: independent nodes in parallel within
resources.max_compute_units and [performance] max_compute_units, each attempt
under resources.timeout_seconds, retried per the completion policy. Progress
goes to standard error; the outputs of the final nodes go to standard output.
The run record (every node's status, timings, attempts, tokens, peak heap and
outputs) is rewritten after every node, at --record or
[storage] records_dir/CONTAINER_ID.json. Ctrl-C (or SIGTERM) stops the run
cleanly with the record marked cancelled; --resume continues from the record
without running finished nodes again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			file := args[0]
			ctr, err := container.Load(file)
			if err != nil {
				return err
			}
			if recordPath == "" {
				recordPath = filepath.Join(cfg.Storage.RecordsDir, ctr.ContainerID+".json")
			}
			if cfg.Performance.Threads > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.Performance.Threads))
			}
			sampling, _ := cfg.Runtime.SamplingParams()
			absFile, err := filepath.Abs(file)
			if err != nil {
				return omexerr.Inputf("input.bad_path", "cannot resolve the container path").WithFile(file).Wrap(err)
			}
			opt := engine.Options{
				Limits:     engine.Limits{MemoryLimitMB: cfg.Device.MemoryLimitMB, MaxComputeUnits: cfg.Performance.MaxComputeUnits},
				Generation: engine.Generation{MaxTokens: cfg.Runtime.MaxTokens, Sampling: sampling},
				Tools:      containerTools(cfg),
				RecordPath: recordPath,
				BaseDir:    filepath.Dir(absFile),
				File:       file,
				OnEvent:    progressPrinter(cmd.ErrOrStderr(), len(ctr.ExecutionGraph.Nodes)),
			}
			zc, err := zsei.FromConfig(cfg.Zsei, slog.Default(), "omexc/"+version)
			if err != nil {
				return err
			}
			if zc != nil {
				opt.Advisor = zseiAdvisor{zc}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var rec *engine.Record
			if resume {
				prev, err := engine.LoadRecord(recordPath)
				if err != nil {
					return err
				}
				rec, err = engine.Resume(ctx, ctr, prev, opt)
				if rec == nil {
					return err
				}
				return finishRun(cmd, ctr, rec, recordPath, asJSON, err)
			}
			rec, err = engine.Run(ctx, ctr, opt)
			if rec == nil {
				return err
			}
			return finishRun(cmd, ctr, rec, recordPath, asJSON, err)
		},
	}
	f := c.Flags()
	f.StringVar(&recordPath, "record", "", "the run record file (default: [storage] records_dir/CONTAINER_ID.json)")
	f.BoolVar(&resume, "resume", false, "continue the run in the record: finished nodes are not run again")
	f.BoolVar(&asJSON, "json", false, "print the whole run record as JSON instead of the final outputs")
	return c
}

// finishRun prints the outcome of a run: the final nodes' outputs (or the
// record as JSON) to standard output and a one-line summary to standard
// error; runErr is the engine's error, returned for the exit status.
func finishRun(cmd *cobra.Command, ctr *container.Container, rec *engine.Record, recordPath string, asJSON bool, runErr error) error {
	stdout := cmd.OutOrStdout()
	if asJSON {
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", data)
	} else if rec.Status == engine.StatusCompleted {
		printFinalOutputs(stdout, ctr, rec)
	}
	done := 0
	for _, n := range rec.Nodes {
		if n.Status == engine.StatusCompleted {
			done++
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "run %s: %d of %d nodes completed in %v; record %s\n",
		rec.Status, done, len(rec.Nodes), time.Duration(rec.DurationMS*float64(time.Millisecond)).Round(time.Millisecond), recordPath)
	return runErr
}

// printFinalOutputs prints the outputs of the nodes nothing depends on:
// texts as they are, JSON indented.
func printFinalOutputs(w io.Writer, ctr *container.Container, rec *engine.Record) {
	used := map[string]bool{}
	for _, n := range ctr.ExecutionGraph.Nodes {
		for _, d := range n.Dependencies {
			used[d] = true
		}
	}
	for _, n := range ctr.ExecutionGraph.Nodes {
		if used[n.ID] {
			continue
		}
		nr := rec.Node(n.ID)
		outs := make([]string, 0, len(nr.Outputs))
		for name := range nr.Outputs {
			outs = append(outs, name)
		}
		slices.Sort(outs)
		for _, name := range outs {
			if name == "prompt" {
				continue // the prompt the model saw is in the record; the answer is what a reader wants
			}
			v := engine.Value{Name: name, Data: nr.Outputs[name]}
			var s string
			if json.Unmarshal(v.Data, &s) == nil {
				fmt.Fprintln(w, strings.TrimRight(s, "\n"))
				continue
			}
			fmt.Fprintf(w, "%s\n", v.Data)
		}
	}
}

// progressPrinter reports node starts, retries and ends on w.
func progressPrinter(w io.Writer, total int) func(engine.Event) {
	var mu sync.Mutex
	ended := 0
	return func(e engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		r := e.Record
		switch e.Kind {
		case "start":
			fmt.Fprintf(w, "[%s] started (%s %s)\n", e.Node, r.Executor, r.Type)
		case "retry":
			last := ""
			if n := len(r.AttemptErrors); n > 0 {
				last = ": " + r.AttemptErrors[n-1]
			}
			fmt.Fprintf(w, "[%s] retrying, attempt %d%s\n", e.Node, r.Attempts, last)
		case "end":
			ended++
			detail := fmt.Sprintf("in %v", time.Duration(r.DurationMS*float64(time.Millisecond)).Round(time.Microsecond))
			if r.GeneratedTokens > 0 {
				detail += fmt.Sprintf(", %d prompt + %d generated tokens", r.PromptTokens, r.GeneratedTokens)
			}
			if r.Error != "" {
				detail += ": " + r.Error
			}
			fmt.Fprintf(w, "[%s] %s %s (%d/%d)\n", e.Node, r.Status, detail, ended, total)
		}
	}
}

// containerLimits are the configuration's limits as container validation
// checks them.
func containerLimits(cfg *config.Config) container.Limits {
	return container.Limits{MemoryLimitMB: cfg.Device.MemoryLimitMB, Tools: toolNamesOf(containerTools(cfg))}
}

func toolNamesOf(tools map[string]engine.Tool) []string {
	names := []string{}
	for n := range tools {
		names = append(names, n)
	}
	return names
}

// zseiAdvisor lets the engine ask ZSEI for guidance: the blueprint is
// applied to the container's graph (node_type matches a node's executor),
// and checkpoints go to ZSEI's state endpoint.
type zseiAdvisor struct{ cl *zsei.Client }

func (a zseiAdvisor) Advise(ctx context.Context, c *container.Container) []string {
	domain := "general"
	for _, n := range c.ExecutionGraph.Nodes {
		if n.Type == "parse_source" {
			domain = "code_analysis"
		}
	}
	g, note := a.cl.Guide(ctx, c.InputData.Prompt, domain)
	notes := []string{note}
	if g == nil {
		return notes
	}
	rep := zsei.ApplyBlueprint(containerPlan{c}, g.ExecutionBlueprint)
	for _, s := range rep.Applied {
		notes = append(notes, "applied: "+s)
	}
	for _, s := range rep.Skipped {
		notes = append(notes, "skipped: "+s)
	}
	for _, s := range g.ValidationCriteria {
		notes = append(notes, "validation criterion: "+s)
	}
	return notes
}

func (a zseiAdvisor) Sync(ctx context.Context, cp engine.Checkpoint) error {
	return a.cl.SyncState(ctx, zsei.Checkpoint{ExecutionID: cp.ExecutionID, Event: cp.Event, Node: cp.Node, Status: cp.Status, CompletedNodes: cp.Completed})
}

// containerPlan is a container's graph as a zsei.Plan.
type containerPlan struct{ c *container.Container }

func (p containerPlan) Nodes() []zsei.PlanNode {
	var out []zsei.PlanNode
	for _, n := range p.c.ExecutionGraph.Nodes {
		out = append(out, zsei.PlanNode{ID: n.ID, Type: n.Executor, Dependencies: slices.Clone(n.Dependencies), Guidance: n.Guidance})
	}
	return out
}

func (p containerPlan) SetGuidance(id, text string) {
	if n := p.c.Node(id); n != nil {
		n.Guidance = text
	}
}

func (p containerPlan) AddDependency(id, dep string) {
	if n := p.c.Node(id); n != nil {
		n.Dependencies = append(n.Dependencies, dep)
	}
}

// containerTools are the agent tools tool nodes may call, confined by the
// [security] section.
func containerTools(cfg *config.Config) map[string]engine.Tool {
	sec := cfg.Security
	tools := map[string]engine.Tool{}
	for name, t := range agent.DefaultTools(agent.ToolConfig{
		Root:              sec.FileRoot,
		AllowedExtensions: sec.AllowedExtensions,
		CodeTimeout:       sec.CodeTimeout(),
		CodeMemoryMB:      sec.CodeMemoryMB,
		SandboxRequired:   sec.SandboxRequired,
	}) {
		tools[name] = t
	}
	return tools
}

// writeFileAtomicCLI writes a file through a temporary file and a rename so
// a failed write leaves no partial file.
func writeFileAtomicCLI(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// runner is one run of a container.
type runner struct {
	c     *container.Container
	rec   *Record
	opt   Options
	gen   Generation
	execs map[string]executor
	mon   *heapMonitor
	sync  *syncer // nil without an advisor

	mu      sync.Mutex // guards rec, saveErr and OnEvent calls
	saveErr error
}

// nodeDone is what a node's goroutine reports when the node ends.
type nodeDone struct {
	id            string
	status        string
	res           *result
	err           error
	attempts      int
	retries       int
	attemptErrors []string
	notes         []string
	peak          int64
	start, end    time.Time
}

func run(ctx context.Context, c *container.Container, rec *Record, opt Options) (*Record, error) {
	lim := container.Limits{MemoryLimitMB: opt.Limits.MemoryLimitMB, Tools: toolNames(opt.Tools)}
	if err := c.Validate(opt.File, lim); err != nil {
		return nil, err
	}
	if err := preflight(ctx, c, opt.Tools); err != nil {
		return nil, err
	}
	rec.Guidance = nil
	var sync *syncer
	if opt.Advisor != nil {
		c, rec.Guidance = advise(ctx, opt.Advisor, c, lim)
		sync = startSyncer(ctx, opt.Advisor, len(c.ExecutionGraph.Nodes))
	}
	order, err := c.Order() // after the advice, which may add dependencies
	if err != nil {
		return nil, err
	}
	r := &runner{c: c, rec: rec, opt: opt, gen: opt.Generation, sync: sync}
	if r.gen == (Generation{}) {
		r.gen = DefaultGeneration()
	}
	r.execs = map[string]executor{
		container.ModelInference: newModelExecutor().execute,
		container.LocalCPU:       executeLocal,
		container.ToolExecutor:   toolExecutor(opt.Tools),
	}
	par := parallelism(c, opt.Limits)
	start := time.Now()
	rec.Status, rec.Started, rec.Ended, rec.Runs = StatusRunning, start, nil, rec.Runs+1
	rec.Parallelism, rec.MemoryMB = par, c.Resources.MaxMemoryMB
	r.save()
	if r.saveErr != nil {
		return nil, omexerr.Resourcef("engine.record_write", "cannot write the run record").WithFile(opt.RecordPath).Wrap(r.saveErr)
	}
	r.mon = startHeapMonitor()

	done := make(chan nodeDone)
	running, memInUse := 0, 0
	for {
		if ctx.Err() == nil {
			r.mu.Lock()
			for _, id := range order {
				n, nr := c.Node(id), rec.Node(id)
				if nr.Status != StatusPending || running >= par {
					continue
				}
				ready := true
				for _, d := range n.Dependencies {
					switch rec.Node(d).Status {
					case StatusCompleted:
					case StatusFailed, StatusTimedOut, StatusSkipped:
						nr.Status = StatusSkipped
						nr.Error = fmt.Sprintf("dependency %q did not complete", d)
						ready = false
					default:
						ready = false
					}
				}
				if !ready || memInUse+n.MemoryAllocation > c.Resources.MaxMemoryMB {
					continue
				}
				inputs, err := resolveInputs(c, n, rec)
				now := time.Now()
				nr.Status, nr.Start = StatusRunning, &now
				if err != nil {
					nr.Status, nr.End, nr.Error = StatusFailed, &now, err.Error()
					if e, ok := omexerr.As(err); ok {
						nr.ErrorCode = e.Code
					}
					r.event("end", nr)
					continue
				}
				running++
				memInUse += n.MemoryAllocation
				r.event("start", nr)
				t := &task{c: c, node: n, inputs: inputs, baseDir: opt.BaseDir, gen: r.gen}
				go func() { done <- r.runNode(ctx, t) }()
			}
			r.mu.Unlock()
			r.save()
		}
		if running == 0 {
			break
		}
		d := <-done
		running--
		memInUse -= c.Node(d.id).MemoryAllocation
		r.finish(d)
		r.save()
		if r.sync != nil {
			r.sync.send(Checkpoint{ExecutionID: c.ContainerID, Event: "checkpoint", Node: d.id, Status: "running", Completed: r.completed()})
		}
	}

	peak := r.mon.close()
	r.mu.Lock()
	end := time.Now()
	rec.Ended, rec.DurationMS, rec.PeakHeapBytes = &end, ms(end.Sub(start)), max(rec.PeakHeapBytes, peak)
	runErr := r.outcome(ctx)
	r.mu.Unlock()
	if r.sync != nil {
		status := map[string]string{StatusCompleted: "succeeded", StatusCancelled: "cancelled"}[rec.Status]
		if status == "" {
			status = "failed"
		}
		notes := r.sync.finish(Checkpoint{ExecutionID: c.ContainerID, Event: "completion", Status: status, Completed: r.completed()})
		r.mu.Lock()
		rec.Guidance = append(rec.Guidance, notes...)
		r.mu.Unlock()
	}
	r.save()
	if r.saveErr != nil && runErr == nil {
		runErr = omexerr.Resourcef("engine.record_write", "cannot write the run record").WithFile(opt.RecordPath).Wrap(r.saveErr)
	}
	return rec, runErr
}

// finish stores a node's outcome in the record.
func (r *runner) finish(d nodeDone) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, nr := r.c.Node(d.id), r.rec.Node(d.id)
	nr.Status, nr.Attempts, nr.Retries = d.status, d.attempts, d.retries
	nr.AttemptErrors, nr.Notes, nr.PeakHeapBytes = d.attemptErrors, d.notes, d.peak
	nr.Start, nr.End, nr.DurationMS = &d.start, &d.end, ms(d.end.Sub(d.start))
	if d.err != nil {
		nr.Error = d.err.Error()
		if e, ok := omexerr.As(d.err); ok {
			nr.ErrorCode = e.Code
		}
	}
	if d.status == StatusCompleted {
		kept, _ := r.c.KeptOutputs(n, toolNames(r.opt.Tools))
		nr.Outputs = map[string]json.RawMessage{}
		for _, name := range kept {
			v, ok := d.res.outputs[name]
			if !ok {
				nr.Status, nr.Error = StatusFailed, fmt.Sprintf("the %s task produced no output %q", n.Type, name)
				nr.Outputs = nil
				break
			}
			nr.Outputs[name] = v
		}
		nr.PromptTokens, nr.GeneratedTokens = d.res.promptTokens, d.res.generatedTokens
		nr.Notes = append(nr.Notes, d.res.notes...)
	}
	r.event("end", nr)
}

// outcome sets the run's status from its nodes and returns the error to
// report when it did not complete. Called with r.mu held.
func (r *runner) outcome(ctx context.Context) error {
	rec := r.rec
	if ctx.Err() != nil {
		rec.Status = StatusCancelled
		rec.Error = "cancelled; resume to finish the remaining nodes"
		return omexerr.Executionf("engine.cancelled", "the run of container %s was cancelled; %d of %d nodes completed (resume to finish)", rec.ContainerID, r.count(StatusCompleted), len(rec.Nodes)).Wrap(context.Cause(ctx))
	}
	for _, nr := range rec.Nodes {
		if nr.Status == StatusFailed || nr.Status == StatusTimedOut {
			rec.Status = StatusFailed
			rec.Error = fmt.Sprintf("node %q %s: %s", nr.ID, nr.Status, nr.Error)
			if nr.Attempts == 0 {
				return omexerr.Executionf("engine.node_failed", "node %q could not start: %s", nr.ID, nr.Error)
			}
			return omexerr.Executionf("engine.node_failed", "node %q %s after %d attempt(s): %s", nr.ID, nr.Status, nr.Attempts, nr.Error)
		}
	}
	if i := slices.IndexFunc(rec.Nodes, func(nr *NodeRecord) bool { return nr.Status != StatusCompleted }); i >= 0 {
		// Every node either completes or has a failed dependency; reaching
		// here means a node could never be scheduled.
		rec.Status = StatusFailed
		rec.Error = fmt.Sprintf("node %q never ran (status %s)", rec.Nodes[i].ID, rec.Nodes[i].Status)
		return omexerr.Executionf("engine.unscheduled", "%s", rec.Error)
	}
	rec.Status = StatusCompleted
	return nil
}

// completed lists the completed nodes.
func (r *runner) completed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := []string{}
	for _, nr := range r.rec.Nodes {
		if nr.Status == StatusCompleted {
			ids = append(ids, nr.ID)
		}
	}
	return ids
}

func (r *runner) count(status string) int {
	n := 0
	for _, nr := range r.rec.Nodes {
		if nr.Status == status {
			n++
		}
	}
	return n
}

// event tells OnEvent about a step. Called with r.mu held, so calls never
// overlap.
func (r *runner) event(kind string, nr *NodeRecord) {
	if r.opt.OnEvent != nil {
		r.opt.OnEvent(Event{Kind: kind, Node: nr.ID, Record: *nr})
	}
}

// save writes the record when the run has a record path.
func (r *runner) save() {
	if r.opt.RecordPath == "" {
		return
	}
	r.mu.Lock()
	data, err := json.MarshalIndent(r.rec, "", "  ")
	r.mu.Unlock()
	if err == nil {
		err = writeFileAtomic(r.opt.RecordPath, append(data, '\n'))
	}
	if err != nil && r.saveErr == nil {
		r.mu.Lock()
		r.saveErr = err
		r.mu.Unlock()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

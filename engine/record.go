package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// Run and node statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out" // a node's last attempt ran past its timeout
	StatusCancelled = "cancelled"
	StatusSkipped   = "skipped" // a dependency did not complete
)

// Record is a run's record: what ran, how it went, and the outputs, so the
// run can be resumed and its results read.
type Record struct {
	OmexVersion     string `json:"omex_version"`
	ContainerID     string `json:"container_id"`
	ContainerSHA256 string `json:"container_sha256"` // of the container's JSON; Resume refuses another container
	// Status is running, completed, failed or cancelled.
	Status      string     `json:"status"`
	Started     time.Time  `json:"started"`
	Ended       *time.Time `json:"ended,omitempty"`
	DurationMS  float64    `json:"duration_ms"` // of the last run (a resumed run counts from its resume)
	Runs        int        `json:"runs"`        // 1, plus one per resume
	Parallelism int        `json:"parallelism"` // nodes allowed to run at once
	MemoryMB    int        `json:"memory_budget_mb"`
	// PeakHeapBytes is the process's largest Go heap seen during the run.
	PeakHeapBytes int64  `json:"peak_heap_bytes"`
	Error         string `json:"error,omitempty"`
	// Guidance notes what the guidance service (ZSEI) did for the last run:
	// advice applied or skipped, or why there was none, and failed syncs.
	Guidance []string      `json:"guidance,omitempty"`
	Nodes    []*NodeRecord `json:"nodes"` // in the container's order
}

// NodeRecord is one node's part of the record.
type NodeRecord struct {
	ID       string `json:"id"`
	Executor string `json:"executor"`
	Type     string `json:"type"`
	// Status is pending, running, completed, failed, timed_out, cancelled or
	// skipped.
	Status     string     `json:"status"`
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
	DurationMS float64    `json:"duration_ms"`
	Attempts   int        `json:"attempts"`
	Retries    int        `json:"retries"`
	// Resumed is set when the node completed in an earlier run and its
	// saved outputs were reused.
	Resumed bool `json:"resumed,omitempty"`
	// PromptTokens and GeneratedTokens count model_inference tokens.
	PromptTokens    int `json:"prompt_tokens,omitempty"`
	GeneratedTokens int `json:"generated_tokens,omitempty"`
	// MemoryAllocationMB is the node's budget; PeakHeapBytes is how far the
	// process heap grew above its level at the attempt's start while the
	// node ran (nodes running together share that growth).
	MemoryAllocationMB int      `json:"memory_allocation_mb"`
	PeakHeapBytes      int64    `json:"peak_heap_bytes"`
	Error              string   `json:"error,omitempty"`
	ErrorCode          string   `json:"error_code,omitempty"`
	AttemptErrors      []string `json:"attempt_errors,omitempty"` // why each failed attempt failed
	Notes              []string `json:"notes,omitempty"`
	// Outputs are the outputs the node keeps, by name.
	Outputs map[string]json.RawMessage `json:"outputs,omitempty"`
}

// containerHash is the SHA-256 of the container's JSON encoding.
func containerHash(c *container.Container) (string, error) {
	data, err := c.JSON()
	if err != nil {
		return "", omexerr.Executionf("engine.encode", "cannot encode the container").Wrap(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func newRecord(c *container.Container) (*Record, error) {
	sum, err := containerHash(c)
	if err != nil {
		return nil, err
	}
	rec := &Record{OmexVersion: container.Version, ContainerID: c.ContainerID, ContainerSHA256: sum}
	for _, n := range c.ExecutionGraph.Nodes {
		rec.Nodes = append(rec.Nodes, &NodeRecord{ID: n.ID, Executor: n.Executor, Type: n.Type, Status: StatusPending, MemoryAllocationMB: n.MemoryAllocation})
	}
	return rec, nil
}

// Node returns the record of node id, or nil.
func (r *Record) Node(id string) *NodeRecord {
	for _, n := range r.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// prepareResume checks the record belongs to c and resets every node that
// did not complete (or completed without the outputs its users read) so it
// runs again.
func (r *Record) prepareResume(c *container.Container) error {
	sum, err := containerHash(c)
	if err != nil {
		return err
	}
	if r.ContainerSHA256 != sum {
		return omexerr.Inputf("engine.record_mismatch", "the record is of container %s (sha256 %.12s), not of this container (%s, sha256 %.12s)", r.ContainerID, r.ContainerSHA256, c.ContainerID, sum)
	}
	byID := map[string]*NodeRecord{}
	for _, n := range r.Nodes {
		byID[n.ID] = n
	}
	var nodes []*NodeRecord
	for _, n := range c.ExecutionGraph.Nodes {
		nr := byID[n.ID]
		if nr == nil {
			nr = &NodeRecord{ID: n.ID}
		}
		nr.Executor, nr.Type, nr.MemoryAllocationMB = n.Executor, n.Type, n.MemoryAllocation
		nodes = append(nodes, nr)
	}
	for _, n := range c.ExecutionGraph.Nodes {
		for _, in := range n.Inputs {
			ref, err := container.ParseInput(in)
			if err != nil || ref.Node == "" {
				continue
			}
			if src := byID[ref.Node]; src != nil && src.Status == StatusCompleted && src.Outputs[ref.Output] == nil {
				src.Status = StatusPending // its saved outputs lack what a user reads: run it again
			}
		}
	}
	for _, nr := range nodes {
		if nr.Status == StatusCompleted {
			nr.Resumed = true
			continue
		}
		*nr = NodeRecord{ID: nr.ID, Executor: nr.Executor, Type: nr.Type, Status: StatusPending, MemoryAllocationMB: nr.MemoryAllocationMB}
	}
	r.Nodes = nodes
	r.Error, r.Ended = "", nil
	return nil
}

// LoadRecord reads a run record written by a run.
func LoadRecord(path string) (*Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Inputf("engine.record_read", "cannot read the run record").WithFile(path).Wrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return nil, omexerr.Inputf("engine.record_read", "cannot read the run record").WithFile(path).Wrap(err)
	}
	return ParseRecord(data, path)
}

// maxRecordBytes bounds a record file: outputs live in it, so it may be
// large, but not without limit.
const maxRecordBytes = 1 << 30

// ParseRecord decodes a run record and checks it is one: a container hash
// and nodes with distinct ids. file names the source in errors.
func ParseRecord(data []byte, file string) (*Record, error) {
	if len(data) > maxRecordBytes {
		return nil, omexerr.Inputf("engine.record_syntax", "the run record is over %d MB", maxRecordBytes>>20).WithFile(file)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, omexerr.Inputf("engine.record_syntax", "the run record is not valid JSON").WithFile(file).Wrap(err)
	}
	if r.ContainerSHA256 == "" {
		return nil, omexerr.Inputf("engine.record_syntax", "the file is not a run record (no container_sha256)").WithFile(file)
	}
	seen := map[string]bool{}
	for i, n := range r.Nodes {
		if n == nil || n.ID == "" {
			return nil, omexerr.Inputf("engine.record_syntax", "the run record's nodes[%d] has no id", i).WithFile(file)
		}
		if seen[n.ID] {
			return nil, omexerr.Inputf("engine.record_syntax", "the run record lists node %q twice", n.ID).WithFile(file)
		}
		seen[n.ID] = true
	}
	return &r, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a reader (or a resume after a crash) sees the
// old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

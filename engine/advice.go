package engine

import (
	"context"
	"fmt"

	"github.com/omex-dev/omex/container"
)

// Advisor is a guidance service (ZSEI) as the engine uses it. It is
// advisory: nothing it does or fails to do stops a run; what happened goes
// into the record's guidance notes.
type Advisor interface {
	// Advise may add guidance and dependencies to c (the engine's copy of
	// the container, run instead of the original when it stays valid) and
	// returns notes for the record: what was applied, or why nothing was.
	Advise(ctx context.Context, c *container.Container) []string
	// Sync reports the run's state at a checkpoint or at completion.
	Sync(ctx context.Context, cp Checkpoint) error
}

// Checkpoint is a state report to the advisor.
type Checkpoint struct {
	ExecutionID string   // the container id
	Event       string   // "checkpoint" (a node ended) or "completion"
	Node        string   // the node that ended, for a checkpoint
	Status      string   // "running" at checkpoints; "succeeded", "failed" or "cancelled" at completion
	Completed   []string // the nodes completed so far
}

// advise runs the advisor on a copy of c and returns the container to run
// (the advised copy, or c when the advice would make it invalid) and the
// notes for the record.
func advise(ctx context.Context, adv Advisor, c *container.Container, lim container.Limits) (*container.Container, []string) {
	data, err := c.JSON()
	if err != nil {
		return c, []string{"guidance not asked for: cannot copy the container: " + err.Error()}
	}
	cp, err := container.Parse(data, "")
	if err != nil {
		return c, []string{"guidance not asked for: cannot copy the container: " + err.Error()}
	}
	notes := adv.Advise(ctx, cp)
	if err := cp.Validate("", lim); err != nil {
		return c, append(notes, fmt.Sprintf("guidance discarded: it would make the container invalid: %v", err))
	}
	return cp, notes
}

// syncer sends checkpoints to the advisor one at a time in the background,
// so a slow guidance service never holds up scheduling.
type syncer struct {
	adv   Advisor
	ctx   context.Context
	queue chan Checkpoint
	done  chan struct{}
	notes []string // failures only: a checkpoint that went through needs no note
}

func startSyncer(ctx context.Context, adv Advisor, nodes int) *syncer {
	s := &syncer{adv: adv, ctx: ctx, queue: make(chan Checkpoint, nodes+1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for cp := range s.queue {
			if err := adv.Sync(ctx, cp); err != nil {
				s.notes = append(s.notes, fmt.Sprintf("ZSEI checkpoint after node %q not synced, continuing: %v", cp.Node, err))
			}
		}
	}()
	return s
}

// send queues a checkpoint; the queue holds one per node, so it never
// blocks.
func (s *syncer) send(cp Checkpoint) {
	select {
	case s.queue <- cp:
	default:
	}
}

// finish waits for the queued checkpoints, reports completion and returns
// the notes for the record. Completion is reported even when the run was
// cancelled, within the advisor's own time limit.
func (s *syncer) finish(cp Checkpoint) []string {
	close(s.queue)
	<-s.done
	if err := s.adv.Sync(context.WithoutCancel(s.ctx), cp); err != nil {
		return append(s.notes, fmt.Sprintf("ZSEI completion not synced: %v", err))
	}
	return append(s.notes, "ZSEI completion synced")
}

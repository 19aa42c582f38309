package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// task is what an executor gets: the node, its resolved inputs and the
// run's settings.
type task struct {
	c       *container.Container
	node    *container.Node
	inputs  []Value
	baseDir string
	gen     Generation
}

// result is what an executor produces.
type result struct {
	outputs         map[string]json.RawMessage
	promptTokens    int
	generatedTokens int
	notes           []string
}

// executor runs one attempt of a node. It must return soon after ctx is
// done; one that does not is abandoned after stopGrace.
type executor func(ctx context.Context, t *task) (*result, error)

// stopGrace is how long an attempt past its deadline may take to stop
// before the engine stops waiting for it (a variable so tests can shorten
// it).
var stopGrace = time.Second

// errTimeout is the cause of an attempt's context when its time ran out.
var errTimeout = errors.New("node timeout")

// runNode runs a node's attempts until one succeeds, the policy allows no
// more, or the run is cancelled.
func (r *runner) runNode(ctx context.Context, t *task) nodeDone {
	n := t.node
	pol := r.c.CompletionPolicy
	d := nodeDone{id: n.ID, start: time.Now()}
	for attempt := 1; ; attempt++ {
		d.attempts = attempt
		if attempt > 1 {
			r.mu.Lock()
			nr := *r.rec.Node(n.ID)
			nr.Attempts, nr.Retries = attempt, attempt-1
			nr.AttemptErrors = append([]string(nil), d.attemptErrors...)
			r.event("retry", &nr)
			r.mu.Unlock()
		}
		res, peak, note, timedOut, err := r.attempt(ctx, t)
		d.peak = max(d.peak, peak)
		if note != "" {
			d.notes = append(d.notes, note)
		}
		if err == nil {
			d.status, d.res, d.err = StatusCompleted, res, nil
			break
		}
		d.err = err
		d.attemptErrors = append(d.attemptErrors, fmt.Sprintf("attempt %d: %v", attempt, err))
		if ctx.Err() != nil {
			d.status = StatusCancelled
			break
		}
		d.status = StatusFailed
		if timedOut {
			d.status = StatusTimedOut
		}
		if !pol.RetryOnFail || attempt > pol.MaxRetries || permanent(err) {
			break
		}
		d.retries++
		delay := time.NewTimer(time.Duration(pol.RetryDelayMS) * time.Millisecond)
		select {
		case <-delay.C:
			continue
		case <-ctx.Done():
			delay.Stop()
			d.status = StatusCancelled
		}
		break
	}
	d.end = time.Now()
	return d
}

// permanent reports whether retrying cannot help: bad input, a bad model or
// configuration, or a node over its memory budget.
func permanent(err error) bool {
	e, ok := omexerr.As(err)
	if !ok {
		return false
	}
	switch e.Category {
	case omexerr.Input, omexerr.Model, omexerr.Configuration:
		return true
	}
	return e.Code == "engine.memory_exceeded"
}

// attempt runs the node once under its timeout and memory watch. It
// returns the result or the error, the attempt's peak heap growth, a note
// (memory pressure under the warn strategy, or an executor that had to be
// abandoned), and whether the attempt timed out.
func (r *runner) attempt(ctx context.Context, t *task) (res *result, peak int64, note string, timedOut bool, err error) {
	n := t.node
	timeout := time.Duration(r.c.Resources.TimeoutSeconds * float64(time.Second))
	cctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	actx, cancel := context.WithTimeoutCause(cctx, timeout, errTimeout)
	defer cancel()

	limit := int64(n.MemoryAllocation) << 20
	var overAt atomic.Int64
	w := r.mon.watch(limit, func(p int64) {
		overAt.Store(p)
		if r.c.CompletionPolicy.MemoryPressureStrategy == "fail" {
			cancelCause(omexerr.Resourcef("engine.memory_exceeded", "node %q grew the heap by %d MB, over its memory_allocation of %d MB", n.ID, p>>20, n.MemoryAllocation))
		}
	})
	type outcome struct {
		res *result
		err error
	}
	ch := make(chan outcome, 1)
	exec := r.execs[n.Executor]
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- outcome{nil, omexerr.Executionf("engine.executor_panic", "the %s executor failed on node %q: %v", n.Executor, n.ID, p)}
			}
		}()
		res, err := exec(actx, t)
		ch <- outcome{res, err}
	}()
	var out outcome
	select {
	case out = <-ch:
	case <-actx.Done():
		select {
		case out = <-ch:
		case <-time.After(stopGrace):
			out.err = actx.Err()
			note = fmt.Sprintf("the %s executor did not stop within %v of being told to; it was abandoned", n.Executor, stopGrace)
		}
	}
	peak = r.mon.end(w)
	if p := overAt.Load(); p > 0 && r.c.CompletionPolicy.MemoryPressureStrategy == "warn" {
		note = fmt.Sprintf("the heap grew by %d MB, over the node's memory_allocation of %d MB (memory_pressure_strategy warn)", p>>20, n.MemoryAllocation)
	}
	if out.err == nil && out.res != nil {
		return out.res, peak, note, false, nil
	}
	cause := context.Cause(actx)
	switch {
	case ctx.Err() != nil:
		return nil, peak, note, false, omexerr.Executionf("engine.cancelled", "node %q was cancelled", n.ID).Wrap(context.Cause(ctx))
	case errors.Is(cause, errTimeout):
		return nil, peak, note, true, omexerr.Executionf("engine.timeout", "node %q ran past its timeout of %v and was stopped", n.ID, timeout)
	case cause != nil && actx.Err() != nil:
		return nil, peak, note, false, cause
	case out.err == nil:
		return nil, peak, note, false, omexerr.Executionf("engine.no_result", "the %s executor returned nothing for node %q", n.Executor, n.ID)
	}
	return nil, peak, note, false, out.err
}

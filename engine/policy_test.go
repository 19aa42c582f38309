package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// flaky fails its first n calls with a transient error, then answers.
func flaky(n int, calls *counter) funcTool {
	return funcTool{"flaky", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		if calls.add("flaky") <= n {
			return nil, errors.New("connection reset by peer")
		}
		return json.RawMessage(`"fine"`), nil
	}}
}

func TestRetriesPerPolicy(t *testing.T) {
	cases := []struct {
		name        string
		failures    int
		retry       bool
		maxRetries  int
		status      string
		attempts    int
		downstreams int // calls of the node after it
	}{
		{"recovers within the retries", 2, true, 2, StatusCompleted, 3, 1},
		{"runs out of retries", 2, true, 1, StatusFailed, 2, 0},
		{"retry_on_fail off", 1, false, 5, StatusFailed, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls counter
			c := graphContainer(toolNode("a", "flaky"), toolNode("b", "ok", "a"))
			c.CompletionPolicy.RetryOnFail, c.CompletionPolicy.MaxRetries, c.CompletionPolicy.RetryDelayMS = tc.retry, tc.maxRetries, 20
			start := time.Now()
			var retries []string
			onEvent := func(e Event) {
				if e.Kind == "retry" {
					retries = append(retries, fmt.Sprintf("%d:%d", e.Record.Attempts, len(e.Record.AttemptErrors)))
				}
			}
			rec, err := Run(context.Background(), c, Options{Tools: tools(flaky(tc.failures, &calls), okTool("ok", &calls)), OnEvent: onEvent})
			if want := retryEvents(tc.attempts); strings.Join(retries, ",") != want {
				t.Fatalf("retry events %v, want %s", retries, want)
			}
			a := rec.Node("a")
			if a.Status != tc.status || a.Attempts != tc.attempts || a.Retries != tc.attempts-1 || len(a.AttemptErrors) != min(tc.failures, tc.attempts) {
				t.Fatalf("node a: %+v", a)
			}
			if calls.get("flaky") != tc.attempts || calls.get("ok") != tc.downstreams {
				t.Fatalf("calls: flaky %d, ok %d", calls.get("flaky"), calls.get("ok"))
			}
			if d := time.Since(start); d < time.Duration(tc.attempts-1)*20*time.Millisecond {
				t.Fatalf("%d retries took %v: the 20ms delay was not kept", tc.attempts-1, d)
			}
			if tc.status == StatusCompleted {
				if err != nil || rec.Status != StatusCompleted {
					t.Fatalf("run: %s, %v", rec.Status, err)
				}
				return
			}
			if err == nil || rec.Status != StatusFailed || rec.Node("b").Status != StatusSkipped || !strings.Contains(a.AttemptErrors[0], "connection reset") {
				t.Fatalf("run %s, b %s, err %v, attempt errors %v", rec.Status, rec.Node("b").Status, err, a.AttemptErrors)
			}
		})
	}
}

// retryEvents is the retry events of a node that ran attempts times:
// "2:1,3:2" (attempt number, errors so far).
func retryEvents(attempts int) string {
	var ev []string
	for a := 2; a <= attempts; a++ {
		ev = append(ev, fmt.Sprintf("%d:%d", a, a-1))
	}
	return strings.Join(ev, ",")
}

func TestBadInputIsNotRetried(t *testing.T) {
	var calls counter
	bad := funcTool{"bad", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		calls.add("bad")
		return nil, omexerr.Inputf("input.bad_path", "no such file")
	}}
	rec, err := Run(context.Background(), graphContainer(toolNode("a", "bad")), Options{Tools: tools(bad)})
	if err == nil || calls.get("bad") != 1 || rec.Node("a").Attempts != 1 || rec.Node("a").ErrorCode != "input.bad_path" {
		t.Fatalf("calls %d, node %+v, err %v", calls.get("bad"), rec.Node("a"), err)
	}
}

// TestTimeoutStopsNode runs a node that would take a minute under a 100ms
// timeout: it is stopped, reported as timed_out, and its dependents skipped.
func TestTimeoutStopsNode(t *testing.T) {
	var calls counter
	var stopped atomic.Bool
	slow := funcTool{"slow", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		calls.add("slow")
		select {
		case <-time.After(time.Minute):
			return json.RawMessage(`1`), nil
		case <-ctx.Done():
			stopped.Store(true)
			return nil, ctx.Err()
		}
	}}
	c := graphContainer(toolNode("a", "slow"), toolNode("b", "ok", "a"))
	c.Resources.TimeoutSeconds = 0.1
	c.CompletionPolicy.MaxRetries = 1
	start := time.Now()
	rec, err := Run(context.Background(), c, Options{Tools: tools(slow, okTool("ok", &calls))})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the run took %v", d)
	}
	a := rec.Node("a")
	if a.Status != StatusTimedOut || a.ErrorCode != "engine.timeout" || a.Attempts != 2 || !stopped.Load() || a.DurationMS < 200 {
		t.Fatalf("node a: %+v (stopped %v)", a, stopped.Load())
	}
	if rec.Node("b").Status != StatusSkipped || calls.get("ok") != 0 || rec.Status != StatusFailed {
		t.Fatalf("b %s, run %s", rec.Node("b").Status, rec.Status)
	}
	if e, ok := omexerr.As(err); !ok || e.Code != "engine.node_failed" || !strings.Contains(e.Msg, "timed_out") {
		t.Fatalf("run error %v", err)
	}
}

// TestTimeoutAbandonsStuckExecutor: a tool that ignores cancellation is
// reported timed out soon after the grace period, not when it returns.
func TestTimeoutAbandonsStuckExecutor(t *testing.T) {
	defer func(g time.Duration) { stopGrace = g }(stopGrace)
	stopGrace = 50 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	stuck := funcTool{"stuck", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		<-release
		return json.RawMessage(`1`), nil
	}}
	c := graphContainer(toolNode("a", "stuck"))
	c.Resources.TimeoutSeconds = 0.05
	c.CompletionPolicy.RetryOnFail = false
	start := time.Now()
	rec, _ := Run(context.Background(), c, Options{Tools: tools(stuck)})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the run waited %v for a stuck tool", d)
	}
	a := rec.Node("a")
	if a.Status != StatusTimedOut || len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "abandoned") {
		t.Fatalf("node a: %+v", a)
	}
}

// TestMemoryOverAskRefusedBeforeStart: a node asking more than the run's
// budget, or a budget over the machine's limit, stops the run before any
// node starts or any record is written.
func TestMemoryOverAskRefusedBeforeStart(t *testing.T) {
	var calls counter
	c := graphContainer(toolNode("a", "ok"), toolNode("b", "ok", "a"))
	c.Node("b").MemoryAllocation = 512
	recPath := filepath.Join(t.TempDir(), "run.json")
	rec, err := Run(context.Background(), c, Options{Tools: tools(okTool("ok", &calls)), RecordPath: recPath})
	if rec != nil || err == nil || !strings.Contains(err.Error(), `node "b": memory_allocation is 512 MB, over resources.max_memory_mb (256 MB)`) {
		t.Fatalf("record %v, err %v", rec, err)
	}
	if calls.get("ok") != 0 {
		t.Fatal("a node ran")
	}
	if _, err := os.Stat(recPath); !os.IsNotExist(err) {
		t.Fatalf("a record was written: %v", err)
	}
	c.Node("b").MemoryAllocation = 16
	_, err = Run(context.Background(), c, Options{Tools: tools(okTool("ok", &calls)), Limits: Limits{MemoryLimitMB: 128}})
	if e, ok := omexerr.As(err); !ok || e.Code != "container.memory_over_ask" || !strings.Contains(e.Msg, "[device] memory_limit_mb") || calls.get("ok") != 0 {
		t.Fatalf("err %v, calls %d", err, calls.get("ok"))
	}
}

// hog allocates and touches 64 MB and holds it for the given time, or
// until it is told to stop.
func hog(hold time.Duration) funcTool {
	return funcTool{"hog", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		buf := make([]byte, 64<<20)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1
		}
		select {
		case <-time.After(hold):
		case <-ctx.Done():
		}
		runtime.KeepAlive(buf)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return json.RawMessage(`1`), nil
	}}
}

// TestMemoryBudgetMeasuredAndEnforced: a node whose heap grows past its
// memory_allocation fails (not retried) under "fail" and is noted under
// "warn"; the record shows its peak either way.
func TestMemoryBudgetMeasuredAndEnforced(t *testing.T) {
	c := graphContainer(toolNode("a", "hog"))
	c.Node("a").MemoryAllocation = 8
	rec, err := Run(context.Background(), c, Options{Tools: tools(hog(time.Minute))})
	a := rec.Node("a")
	if err == nil || a.Status != StatusFailed || a.ErrorCode != "engine.memory_exceeded" || a.Attempts != 1 || a.PeakHeapBytes < 60<<20 {
		t.Fatalf("fail strategy: node %+v, err %v", a, err)
	}
	c.CompletionPolicy.MemoryPressureStrategy = "warn"
	rec, err = Run(context.Background(), c, Options{Tools: tools(hog(50 * time.Millisecond))})
	a = rec.Node("a")
	if err != nil || a.Status != StatusCompleted || len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "over the node's memory_allocation of 8 MB") || a.PeakHeapBytes < 60<<20 {
		t.Fatalf("warn strategy: node %+v, err %v", a, err)
	}
	c.Node("a").MemoryAllocation = 200
	rec, err = Run(context.Background(), c, Options{Tools: tools(hog(50 * time.Millisecond))})
	if a := rec.Node("a"); err != nil || len(a.Notes) != 0 || a.PeakHeapBytes < 60<<20 {
		t.Fatalf("within budget: node %+v, err %v", a, err)
	}
}

// concurrency is a tool that reports the most calls it saw at once.
type concurrency struct{ now, peak atomic.Int32 }

func (c *concurrency) tool() funcTool {
	return funcTool{"wide", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		n := c.now.Add(1)
		for {
			p := c.peak.Load()
			if n <= p || c.peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(40 * time.Millisecond)
		c.now.Add(-1)
		return json.RawMessage(`1`), nil
	}}
}

// TestParallelismLimits runs three independent nodes and checks how many
// ran at once under each limit.
func TestParallelismLimits(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*container.Container, *Limits)
		width int32
	}{
		{"compute units", func(c *container.Container, _ *Limits) { c.Resources.MaxComputeUnits = 2 }, 2},
		{"all", func(_ *container.Container, l *Limits) { l.MaxComputeUnits = 8 }, 3},
		{"machine cap", func(_ *container.Container, l *Limits) { l.MaxComputeUnits = 1 }, 1},
		{"low priority", func(c *container.Container, _ *Limits) { c.Resources.Priority = "low" }, 1},
		{"memory budget", func(c *container.Container, _ *Limits) { c.Resources.MaxMemoryMB = 40 }, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cc concurrency
			c := graphContainer(toolNode("a", "wide"), toolNode("b", "wide"), toolNode("c", "wide"))
			var lim Limits
			tc.edit(c, &lim)
			rec, err := Run(context.Background(), c, Options{Tools: tools(cc.tool()), Limits: lim})
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.peak.Load(); got != tc.width {
				t.Fatalf("%d nodes ran at once, want %d (parallelism %d)", got, tc.width, rec.Parallelism)
			}
		})
	}
}

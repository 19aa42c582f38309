package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/omex-dev/omex/container"
)

// scriptedAdvisor edits the container with edit and records every sync;
// syncErr makes syncs fail.
type scriptedAdvisor struct {
	edit    func(c *container.Container) []string
	syncErr error
	mu      sync.Mutex
	syncs   []Checkpoint
}

func (a *scriptedAdvisor) Advise(_ context.Context, c *container.Container) []string {
	return a.edit(c)
}
func (a *scriptedAdvisor) Sync(_ context.Context, cp Checkpoint) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.syncs = append(a.syncs, cp)
	return a.syncErr
}

func TestAdvisorGuidanceReachesTheModel(t *testing.T) {
	c := summaryContainer(t)
	adv := &scriptedAdvisor{edit: func(c *container.Container) []string {
		c.Node("summarize").Guidance = "List every exported function."
		return []string{"ZSEI guidance applied"}
	}}
	rec, err := Run(context.Background(), c, Options{Advisor: adv})
	if err != nil {
		t.Fatal(err)
	}
	var prompt string
	json.Unmarshal(rec.Node("summarize").Outputs["prompt"], &prompt)
	if !strings.HasPrefix(prompt, "List every exported function.\n\n") {
		t.Fatalf("the advised guidance is not in the prompt: %q", prompt)
	}
	if c.Node("summarize").Guidance == "List every exported function." {
		t.Fatal("the advice changed the caller's container")
	}
	if !slices.Equal(rec.Guidance, []string{"ZSEI guidance applied", "ZSEI completion synced"}) {
		t.Fatalf("guidance notes %q", rec.Guidance)
	}
	var events []string
	for _, cp := range adv.syncs {
		events = append(events, cp.Event+":"+cp.Node+":"+cp.Status)
	}
	want := []string{"checkpoint:parse:running", "checkpoint:analysis:running", "checkpoint:summarize:running", "checkpoint:report:running", "completion::succeeded"}
	if !slices.Equal(events, want) || len(adv.syncs[4].Completed) != 4 || adv.syncs[0].ExecutionID != c.ContainerID {
		t.Fatalf("syncs %v", events)
	}
}

// TestAdvisorCannotBreakTheRun: advice that makes the container invalid is
// discarded, and failing syncs are noted; the run completes either way.
func TestAdvisorCannotBreakTheRun(t *testing.T) {
	var calls counter
	c := graphContainer(toolNode("a", "ok"), toolNode("b", "ok", "a"))
	adv := &scriptedAdvisor{
		edit: func(c *container.Container) []string {
			c.Node("a").Dependencies = []string{"b"} // a cycle
			return []string{"ZSEI guidance applied"}
		},
		syncErr: errors.New("ZSEI is down"),
	}
	rec, err := Run(context.Background(), c, Options{Tools: tools(okTool("ok", &calls)), Advisor: adv})
	if err != nil || rec.Status != StatusCompleted || calls.get("ok") != 2 {
		t.Fatalf("run %s, %v, calls %d", rec.Status, err, calls.get("ok"))
	}
	notes := strings.Join(rec.Guidance, "\n")
	for _, want := range []string{"guidance discarded: it would make the container invalid", `dependency cycle: a -> b -> a`, `ZSEI checkpoint after node "a" not synced, continuing: ZSEI is down`, "ZSEI completion not synced: ZSEI is down"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestSummarizeGoPackage runs the acceptance container end to end: parse
// the omexerr package, assemble the summary of its functions, generate with
// the model, and gather a JSON report; the record on disk shows every node.
func TestSummarizeGoPackage(t *testing.T) {
	c := summaryContainer(t)
	recPath := filepath.Join(t.TempDir(), "run.json")
	rec, err := Run(context.Background(), c, Options{RecordPath: recPath})
	if err != nil {
		t.Fatal(err)
	}
	disk, err := LoadRecord(recPath)
	if err != nil {
		t.Fatal(err)
	}
	if disk.Status != StatusCompleted || rec.Status != StatusCompleted || disk.Runs != 1 {
		t.Fatalf("status %s / %s, runs %d", disk.Status, rec.Status, disk.Runs)
	}
	var ids []string
	for _, n := range disk.Nodes {
		ids = append(ids, n.ID)
		if n.Status != StatusCompleted || n.Attempts != 1 || n.Start == nil || n.End == nil || n.End.Before(*n.Start) {
			t.Errorf("node %s: %+v", n.ID, n)
		}
	}
	if want := []string{"parse", "analysis", "summarize", "report"}; !slices.Equal(ids, want) {
		t.Fatalf("record nodes %v, want %v", ids, want)
	}
	var summary string
	if err := json.Unmarshal(disk.Node("analysis").Outputs["summary"], &summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "Go package omexerr") || !strings.Contains(summary, "- func New(c Category, code, format string, args ...any) *Error: New makes an error") {
		t.Errorf("summary lacks the package's functions:\n%s", summary)
	}
	gen := disk.Node("summarize")
	if gen.PromptTokens == 0 || gen.GeneratedTokens == 0 || gen.GeneratedTokens > 24 {
		t.Errorf("summarize tokens: prompt %d, generated %d", gen.PromptTokens, gen.GeneratedTokens)
	}
	var prompt string
	json.Unmarshal(gen.Outputs["prompt"], &prompt)
	if !strings.HasPrefix(prompt, c.Node("summarize").Guidance) || !strings.HasSuffix(prompt, "Summarize the functions in this Go package") {
		t.Errorf("prompt layout: %q", prompt)
	}
	var report struct{ Functions, Summary string }
	if err := json.Unmarshal(disk.Node("report").Outputs["json"], &report); err != nil {
		t.Fatal(err)
	}
	var text string
	json.Unmarshal(gen.Outputs["text"], &text)
	if report.Functions != summary || report.Summary != text || text == "" {
		t.Errorf("report %+v does not gather the summary and the text %q", report, text)
	}
	if disk.PeakHeapBytes <= 0 || disk.Parallelism != 1 {
		t.Errorf("peak heap %d, parallelism %d", disk.PeakHeapBytes, disk.Parallelism)
	}
}

// TestResumeAfterCancel stops the run when the first node completes, then
// resumes from the record on disk: the finished node is not run again.
func TestResumeAfterCancel(t *testing.T) {
	c := summaryContainer(t)
	recPath := filepath.Join(t.TempDir(), "run.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var starts []string
	onEvent := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == "start" {
			starts = append(starts, e.Node)
		}
		if e.Kind == "end" && e.Node == "parse" {
			cancel()
		}
	}
	rec, err := Run(ctx, c, Options{RecordPath: recPath, OnEvent: onEvent})
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("want a cancelled run, got %v", err)
	}
	if rec.Status != StatusCancelled || rec.Node("parse").Status != StatusCompleted || rec.Node("analysis").Status != StatusPending {
		t.Fatalf("after cancel: run %s, parse %s, analysis %s", rec.Status, rec.Node("parse").Status, rec.Node("analysis").Status)
	}
	firstStart := *rec.Node("parse").Start

	disk, err := LoadRecord(recPath)
	if err != nil {
		t.Fatal(err)
	}
	if disk.Status != StatusCancelled {
		t.Fatalf("record on disk says %s", disk.Status)
	}
	starts = nil
	rec, err = Resume(context.Background(), c, disk, Options{RecordPath: recPath, OnEvent: onEvent})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"analysis", "summarize", "report"}; !slices.Equal(starts, want) {
		t.Fatalf("resumed run started %v, want %v", starts, want)
	}
	p := rec.Node("parse")
	if !p.Resumed || p.Attempts != 1 || !p.Start.Equal(firstStart) || rec.Runs != 2 || rec.Status != StatusCompleted {
		t.Fatalf("parse after resume: %+v; run %s, runs %d", p, rec.Status, rec.Runs)
	}
	if rec.Node("analysis").Resumed || rec.Node("analysis").Attempts != 1 {
		t.Fatalf("analysis: %+v", rec.Node("analysis"))
	}
}

func TestResumeRefusesAnotherContainersRecord(t *testing.T) {
	c := summaryContainer(t)
	rec, err := newRecord(c)
	if err != nil {
		t.Fatal(err)
	}
	other := summaryContainer(t) // another container id
	if _, err := Resume(context.Background(), other, rec, Options{}); err == nil || !strings.Contains(err.Error(), "not of this container") {
		t.Fatalf("want a mismatch error, got %v", err)
	}
}

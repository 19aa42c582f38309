package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line bar on stderr when stderr is a terminal, and
// stays silent otherwise (pipes and CI logs get no control characters).
type progress struct {
	label string
	total int64
	done  int64
	tty   bool
	last  time.Time
	start time.Time
}

func newProgress(label string, total int64) *progress {
	return &progress{label: label, total: total, tty: term.IsTerminal(int(os.Stderr.Fd())), start: time.Now()}
}

// add records n more units done and redraws at most ten times a second.
func (p *progress) add(n int64, item string) {
	p.done += n
	if !p.tty || time.Since(p.last) < 100*time.Millisecond && p.done < p.total {
		return
	}
	p.last = time.Now()
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	if len(item) > 32 {
		item = "…" + item[len(item)-31:]
	}
	fmt.Fprintf(os.Stderr, "\r%s [%s] %3.0f%% %-32s", p.label, bar, frac*100, item)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.tty {
		fmt.Fprintf(os.Stderr, "\r%s done in %v%s\n", p.label, time.Since(p.start).Round(time.Millisecond), strings.Repeat(" ", 60))
	}
}

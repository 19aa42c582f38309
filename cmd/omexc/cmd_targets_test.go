package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/targets"
)

// TestTargetsCommand checks that omexc targets lists every target, marks
// exactly the host's best with "*", and says the same in --json.
func TestTargetsCommand(t *testing.T) {
	dir := t.TempDir()
	host := targets.Host()

	out, stderr, code := omexc(t, dir, "targets", "--json")
	if code != 0 {
		t.Fatalf("targets --json: exit %d: %s", code, stderr)
	}
	var r targetsReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("targets --json: %v\n%s", err, out)
	}
	if r.Host.Best != host.Name || r.Host.GOARCH != host.GOARCH {
		t.Errorf("host = %+v, want best %s", r.Host, host)
	}
	var names, best []string
	for _, e := range r.Targets {
		names = append(names, e.Name)
		if e.HostBest {
			best = append(best, e.Name)
			if !e.Native {
				t.Errorf("host's best %s is not marked native", e.Name)
			}
		}
		if e.Native != e.Supported() {
			t.Errorf("%s: native = %v, Supported() = %v", e.Name, e.Native, e.Supported())
		}
		if e.Kernels == "" || e.GOARCH == "" || e.Features == nil {
			t.Errorf("%s: incomplete entry %+v", e.Name, e)
		}
	}
	if !slices.Equal(names, targets.Names()) {
		t.Errorf("listed %v, want %v", names, targets.Names())
	}
	if !slices.Equal(best, []string{host.Name}) {
		t.Errorf("host_best on %v, want only %s", best, host.Name)
	}

	out, stderr, code = omexc(t, dir, "targets")
	if code != 0 {
		t.Fatalf("targets: exit %d: %s", code, stderr)
	}
	stars := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "*" && f[0] != "+") {
			continue
		}
		tg, err := targets.Lookup(f[1])
		if err != nil {
			t.Errorf("marked line names no target: %q", line)
			continue
		}
		if f[0] == "*" {
			stars++
			if tg.Name != host.Name {
				t.Errorf("* on %s, host's best is %s", tg.Name, host.Name)
			}
		}
		if !tg.Supported() {
			t.Errorf("%s marked %s but does not run here", tg.Name, f[0])
		}
	}
	if stars != 1 {
		t.Errorf("%d lines marked *, want 1:\n%s", stars, out)
	}
	for _, name := range targets.Names() {
		if !strings.Contains(out, name) {
			t.Errorf("text listing lacks %s:\n%s", name, out)
		}
	}

	if _, _, code := omexc(t, dir, "targets", "extra"); code != 2 {
		t.Errorf("targets extra: exit %d, want 2 (usage)", code)
	}
}

package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func benchArgs(extra ...string) []string {
	return append(append([]string{"bench"}, bundled...), extra...)
}

// TestBenchTable: bench on the bundled model measures the three paths and
// prints one row each with positive rates (the executable's from its
// --timings). No speed is asserted.
func TestBenchTable(t *testing.T) {
	root := repoRoot(t)
	out, stderr, code := omexc(t, root, benchArgs("-n", "16", "--runs", "1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 {
			rows[f[0]] = f[1:]
		}
	}
	for _, path := range []string{"reference", "ir", "exe"} {
		cells, ok := rows[path]
		if !ok {
			t.Fatalf("no %s row in:\n%s", path, out)
		}
		for i, c := range cells {
			v, err := strconv.ParseFloat(strings.TrimSuffix(c, "x"), 64)
			if err != nil || v <= 0 {
				t.Errorf("%s column %d is %q, want a positive number in:\n%s", path, i+1, c, out)
			}
		}
	}
	if rows["reference"][2] != "1.00x" || rows["reference"][3] != "1.00x" {
		t.Errorf("the reference's ratios to itself are %v, want 1.00x", rows["reference"][2:])
	}
	if !strings.Contains(out, "exe printed the IR path's text") {
		t.Errorf("the executable's text differs from the IR path's:\n%s", out)
	}
}

// TestBenchJSONWithExe: --json reports the same three paths, and --exe
// times a given executable instead of building one.
func TestBenchJSONWithExe(t *testing.T) {
	root := repoRoot(t)
	exe := t.TempDir() + "/story"
	if _, stderr, code := omexc(t, root, append(append([]string{"build"}, bundled...), "-o", exe)...); code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	out, stderr, code := omexc(t, root, benchArgs("-n", "8", "--runs", "1", "--threads", "1", "--exe", exe, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Executable != exe || rep.Threads != 1 || rep.PromptTokens < 2 || rep.GeneratedTokens < 1 || len(rep.Rows) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for i, want := range []string{"reference", "ir", "exe"} {
		r := rep.Rows[i]
		if r.Path != want || r.PromptTokS <= 0 || r.DecodeTokS <= 0 {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if rep.Rows[2].WholeRunMS <= 0 {
		t.Errorf("exe whole-run time %v", rep.Rows[2].WholeRunMS)
	}
}

// TestBenchBadFlags: misuse exits 2 (cobra's flag errors, missing MODEL)
// or 11 naming the flag (values out of range).
func TestBenchBadFlags(t *testing.T) {
	root := repoRoot(t)
	for _, c := range []struct {
		args []string
		code int
		flag string
	}{
		{benchArgs("--no-such-flag"), 2, "--no-such-flag"},
		{[]string{"bench"}, 2, "arg"},
		{benchArgs("-n", "1"), 11, "-n"},
		{benchArgs("--runs", "0"), 11, "--runs"},
		{benchArgs("--threads", "-1"), 11, "--threads"},
		{benchArgs("--runs", "x"), 2, "--runs"},
	} {
		_, stderr, code := omexc(t, root, c.args...)
		if code != c.code || !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %s", c.args, code, stderr, c.code, c.flag)
		}
	}
}

// TestParseTimings: the --timings line is found among other stderr lines;
// a missing line or a missing rate is an error naming what is missing.
func TestParseTimings(t *testing.T) {
	good := "warming up\ntimings: prompt_tokens=5 prompt_ms=0.1 prompt_tok_s=50000.0 decode_tokens=3 decode_ms=0.2 decode_tok_s=15000.5 first_token_ms=0.1 stop=eos\n"
	tm, err := parseTimings(good)
	if err != nil || tm["prompt_tok_s"] != 50000 || tm["decode_tok_s"] != 15000.5 || tm["prompt_tokens"] != 5 {
		t.Fatalf("parseTimings(good) = %v, %v", tm, err)
	}
	for in, says := range map[string]string{
		"":                                   "no line",
		"story: something failed\n":          "no line",
		"timings: prompt_tok_s=1\n":          "decode_tok_s",
		"timings: decode_tok_s=x prompt=1\n": "prompt_tok_s",
	} {
		if _, err := parseTimings(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("parseTimings(%q) = %v, want an error mentioning %s", in, err, says)
		}
	}
}

// FuzzParseTimings: any stderr text gives a map or an error, never a
// panic; a map always holds both rates.
func FuzzParseTimings(f *testing.F) {
	f.Add("timings: prompt_tokens=5 prompt_ms=0.1 prompt_tok_s=50000.0 decode_tokens=3 decode_ms=0.2 decode_tok_s=15000.5 first_token_ms=0.1 stop=eos\n")
	f.Add("timings: =\ntimings: prompt_tok_s=NaN decode_tok_s=+Inf")
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTimings(s)
		if err != nil {
			return
		}
		if _, ok := tm["prompt_tok_s"]; !ok {
			t.Fatalf("no prompt_tok_s in %v", tm)
		}
		if _, ok := tm["decode_tok_s"]; !ok {
			t.Fatalf("no decode_tok_s in %v", tm)
		}
	})
}

package passes

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
)

// tinyModule is a small valid module with one dead instruction (%dead) for
// the test passes below to work on.
const tinyModule = `module "tiny"
weight @norm : f32[8]
weight @w : f32[8,8]

func @f(%x: f32[seq,8]) -> f32[seq,8] {
  %a = rmsnorm %x, @norm {eps=1e-05} : f32[seq,8]
  %b = matmul %a, @w : f32[seq,8]
  %dead = silu %b : f32[seq,8]
  %c = add %a, %b : f32[seq,8]
  return %c
}
`

func parseTest(t *testing.T, src string) *ir.Module {
	t.Helper()
	m, err := ir.Parse(src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return m
}

// Test-only passes. They do real (small) transformations so the manager's
// dumps, diffs and verification have something to show.
var (
	renameValues = Pass{Name: "rename-values", Description: "prefix every SSA value name with r", Run: func(m *ir.Module, _ *Context) error {
		for _, f := range m.Funcs {
			for _, p := range f.Params {
				p.Name = "r" + p.Name
			}
			for _, in := range f.Body {
				for _, r := range in.Results {
					r.Name = "r" + r.Name
				}
			}
		}
		return nil
	}}
	dropDead = Pass{Name: "drop-dead", Description: "remove unused instructions without side effects", Run: func(m *ir.Module, c *Context) error {
		removed := 0
		for _, f := range m.Funcs {
			used := map[*ir.Value]bool{}
			for _, r := range f.Results {
				used[r] = true
			}
			var keep []*ir.Instr
			for i := len(f.Body) - 1; i >= 0; i-- {
				in := f.Body[i]
				live := in.HasSideEffects() || slices.ContainsFunc(in.Results, func(v *ir.Value) bool { return used[v] })
				if !live {
					removed++
					continue
				}
				for _, a := range in.Args {
					used[a] = true
				}
				keep = append(keep, in)
			}
			slices.Reverse(keep)
			f.Body = keep
		}
		c.Report("removed", float64(removed), "instrs", "removed %d dead instructions", removed)
		return nil
	}}
	noChange    = Pass{Name: "no-change", Description: "changes nothing", Run: func(*ir.Module, *Context) error { return nil }}
	breaksTheIR = Pass{Name: "breaks-the-ir", Description: "drops the first instruction, leaving its uses undefined", Run: func(m *ir.Module, _ *Context) error {
		for _, f := range m.Funcs {
			f.Body = f.Body[1:]
		}
		return nil
	}}
	fails = Pass{Name: "fails", Description: "always fails", Run: func(*ir.Module, *Context) error {
		return omexerr.Configf("config.test", "this pass cannot run")
	}}
)

// recorder returns a pass that appends what it saw to log.
func recorder(name string, required bool, log *[]string) Pass {
	return Pass{Name: name, Required: required, Description: "records that it ran", Run: func(m *ir.Module, c *Context) error {
		*log = append(*log, c.PassName()+"@"+c.Target+"/"+c.Quant)
		return nil
	}}
}

func TestRunsInOrderOnACopy(t *testing.T) {
	var log []string
	pl := []Pass{recorder("one", false, &log), renameValues, recorder("two", true, &log), dropDead}
	mg, err := New(pl, Options{Target: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	in := parseTest(t, tinyModule)
	before := ir.Print(in)
	res, err := mg.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, " "); got != "one@cpu/f32 two@cpu/f32" {
		t.Errorf("passes saw %q", got)
	}
	if ir.Print(in) != before {
		t.Errorf("the input module was modified")
	}
	out := ir.Print(res.Module)
	if strings.Contains(out, "dead") || !strings.Contains(out, "%rc = add %ra, %rb") {
		t.Errorf("unexpected result:\n%s", out)
	}
	if len(res.Timings) != 4 || res.Timings[3].Pass != "drop-dead" {
		t.Errorf("timings: %+v", res.Timings)
	}
	if f, ok := res.Finding("drop-dead", "removed"); !ok || f.Value != 1 || f.Unit != "instrs" {
		t.Errorf("finding: %+v %v", f, ok)
	}
	var b bytes.Buffer
	WriteFindings(&b, res.Findings)
	if b.String() != "drop-dead: removed 1 dead instructions\n" {
		t.Errorf("findings written as %q", b.String())
	}
}

func TestFlagNamesChecked(t *testing.T) {
	var log []string
	pl := []Pass{recorder("one", false, &log), recorder("two", true, &log), noChange}
	cases := []struct {
		opt        Options
		code, flag string
		mention    []string
	}{
		{Options{DisablePass: []string{"nope"}}, "input.unknown_pass", "--disable-pass", []string{`"nope"`, "one, two, no-change"}},
		{Options{DisablePass: []string{"all"}}, "input.unknown_pass", "--disable-pass", []string{`"all"`}},
		{Options{PrintBefore: []string{"one", "x"}}, "input.unknown_pass", "--print-before", []string{`"x"`, "no-change, all"}},
		{Options{PrintAfter: []string{"y"}}, "input.unknown_pass", "--print-after", []string{`"y"`}},
		{Options{DisablePass: []string{"one", "two"}}, "input.required_pass", "--disable-pass", []string{`"two"`, "required"}},
		{Options{Quant: "q3_k"}, "input.bad_flag", "--quant", []string{"q3_k", "q8_0"}},
	}
	for _, c := range cases {
		_, err := New(pl, c.opt)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input || e.Code != c.code || e.Flag != c.flag {
			t.Errorf("%+v: got %v, want InputError %s on %s", c.opt, err, c.code, c.flag)
			continue
		}
		for _, m := range c.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%+v: %q does not mention %s", c.opt, err, m)
			}
		}
	}
	if _, err := New(nil, Options{DisablePass: []string{"x"}}); err == nil || !strings.Contains(err.Error(), "no passes") {
		t.Errorf("empty pipeline: %v", err)
	}
	if _, err := New(pl, Options{DisablePass: []string{"one"}, PrintAfter: []string{"all"}, PrintBefore: []string{"two", "no-change"}, Quant: "q4_0"}); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

func TestDisablePass(t *testing.T) {
	var log []string
	pl := []Pass{recorder("one", false, &log), recorder("two", true, &log), recorder("three", false, &log)}
	mg, err := New(pl, Options{DisablePass: []string{"one,three"}})
	if err == nil {
		// "one,three" is one name to the manager; the CLI splits commas.
		t.Fatalf("a comma-joined name was accepted: %v", mg)
	}
	mg, err = New(pl, Options{DisablePass: []string{"one", "three"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mg.Run(context.Background(), parseTest(t, tinyModule)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(log, " ") != "two@/f32" {
		t.Errorf("ran %q", log)
	}
}

func TestBrokenIRNamesThePass(t *testing.T) {
	var log []string
	dir := t.TempDir()
	html := filepath.Join(dir, "p.html")
	pl := []Pass{renameValues, breaksTheIR, recorder("after", false, &log)}
	mg, err := New(pl, Options{DumpDir: dir, DumpHTML: html})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mg.Run(context.Background(), parseTest(t, tinyModule))
	var be *BrokenIRError
	if !errors.As(err, &be) || be.Pass != "breaks-the-ir" {
		t.Fatalf("got %v, want a BrokenIRError naming breaks-the-ir", err)
	}
	if omexerr.CategoryOf(err) != 0 {
		t.Errorf("a broken pass is a compiler bug, not a user error: %v", err)
	}
	if len(log) != 0 {
		t.Errorf("passes after the broken one ran: %q", log)
	}
	broken := filepath.Join(dir, "02-breaks-the-ir.ir")
	if !strings.Contains(err.Error(), broken) || !strings.Contains(err.Error(), "breaks-the-ir") {
		t.Errorf("error does not point at the dump: %v", err)
	}
	b, rerr := os.ReadFile(broken)
	if rerr != nil || strings.Contains(string(b), "rmsnorm") {
		t.Errorf("the broken stage was not dumped: %v %q", rerr, b)
	}
	page, rerr := os.ReadFile(html)
	if rerr != nil || !strings.Contains(string(page), "the verifier rejects this IR") {
		t.Errorf("the HTML page does not show the broken stage: %v", rerr)
	}
}

func TestInputMustVerify(t *testing.T) {
	m := parseTest(t, tinyModule)
	m.Funcs[0].Body = m.Funcs[0].Body[1:]
	var log []string
	mg, _ := New([]Pass{recorder("one", false, &log)}, Options{})
	_, err := mg.Run(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "input IR does not verify") || len(log) != 0 {
		t.Errorf("invalid input: err %v, ran %q", err, log)
	}
}

func TestPassErrorKeepsCategory(t *testing.T) {
	mg, _ := New([]Pass{noChange, fails}, Options{})
	_, err := mg.Run(context.Background(), parseTest(t, tinyModule))
	if omexerr.CategoryOf(err) != omexerr.Configuration || !strings.HasPrefix(err.Error(), "pass fails: ") {
		t.Errorf("got %v", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log []string
	mg, _ := New([]Pass{recorder("one", false, &log)}, Options{})
	_, err := mg.Run(ctx, parseTest(t, tinyModule))
	if omexerr.CategoryOf(err) != omexerr.Execution || len(log) != 0 {
		t.Errorf("cancelled run: err %v, ran %q", err, log)
	}
}

var stageMarkRE = regexp.MustCompile(`(?m)^// ---- IR (before|after) (\S+) ----$`)

func TestPrintBeforeAfter(t *testing.T) {
	var out bytes.Buffer
	pl := []Pass{renameValues, dropDead, noChange}
	mg, err := New(pl, Options{PrintBefore: []string{"drop-dead"}, PrintAfter: []string{"all"}, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mg.Run(context.Background(), parseTest(t, tinyModule))
	if err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, m := range stageMarkRE.FindAllStringSubmatch(out.String(), -1) {
		marks = append(marks, m[1]+" "+m[2])
	}
	want := "after rename-values,before drop-dead,after drop-dead,after no-change"
	if strings.Join(marks, ",") != want {
		t.Errorf("printed stages %q, want %q", marks, want)
	}
	// The last stage printed is the result, and parses back to it.
	text := out.String()
	last := text[strings.LastIndex(text, "// ---- IR after no-change ----\n")+len("// ---- IR after no-change ----\n"):]
	last = last[:strings.Index(last, "// ---- end of IR")]
	if last != ir.Print(res.Module) {
		t.Errorf("printed IR after the last pass differs from the result")
	}
}

func TestTimePasses(t *testing.T) {
	var out bytes.Buffer
	mg, _ := New([]Pass{renameValues, dropDead}, Options{TimePasses: true, Out: &out})
	if _, err := mg.Run(context.Background(), parseTest(t, tinyModule)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "pass") || !strings.HasPrefix(lines[1], "rename-values ") ||
		!strings.HasPrefix(lines[2], "drop-dead ") || !strings.HasPrefix(lines[3], "total ") || !strings.HasSuffix(lines[1], "%") {
		t.Errorf("time table:\n%s", out.String())
	}
}

func TestLogPasses(t *testing.T) {
	var out bytes.Buffer
	logs := Pass{Name: "logs", Description: "logs", Run: func(_ *ir.Module, c *Context) error {
		c.Logf("looked at %d things\n", 3)
		return nil
	}}
	for _, on := range []bool{false, true} {
		out.Reset()
		mg, _ := New([]Pass{logs}, Options{LogPasses: on, Out: &out})
		if _, err := mg.Run(context.Background(), parseTest(t, tinyModule)); err != nil {
			t.Fatal(err)
		}
		want := ""
		if on {
			want = "logs: looked at 3 things\n"
		}
		if out.String() != want {
			t.Errorf("log (on=%v): %q", on, out.String())
		}
	}
}

func TestDumpDir(t *testing.T) {
	dir := t.TempDir()
	// Leftovers of an earlier run: the stage files of this pipeline are
	// replaced or removed, anything else stays.
	for _, f := range []string{"02-drop-dead.ir", "notes.txt", "07-other.ir"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pl := []Pass{renameValues, dropDead, noChange}
	mg, err := New(pl, Options{DumpDir: dir, DisablePass: []string{"drop-dead"}})
	if err != nil {
		t.Fatal(err)
	}
	in := parseTest(t, tinyModule)
	res, err := mg.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "00-input.ir 01-rename-values.ir 03-no-change.ir 07-other.ir notes.txt" {
		t.Errorf("dump dir holds %s", got)
	}
	for file, want := range map[string]string{"00-input.ir": ir.Print(in), "03-no-change.ir": ir.Print(res.Module)} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(b) != want {
			t.Errorf("%s: %v\n%s", file, err, b)
		}
		parseTest(t, string(b))
	}
}

// TestPipelineTable checks the rules every entry of the real pipeline must
// follow, so a pass added with one line cannot break the flags or the dumps.
func TestPipelineTable(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, p := range Pipeline() {
		if !nameRE.MatchString(p.Name) || p.Name == "all" || p.Name == "input" {
			t.Errorf("pass name %q: want lower-case words joined by '-', not all/input", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("pass %q is in the pipeline twice", p.Name)
		}
		seen[p.Name] = true
		if p.Run == nil {
			t.Errorf("pass %q has no Run", p.Name)
		}
		if p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("pass %q: want a one-line description, got %q", p.Name, p.Description)
		}
		if got, ok := Lookup(p.Name); !ok || got.Name != p.Name {
			t.Errorf("Lookup(%q) failed", p.Name)
		}
	}
	if _, ok := Lookup("no-such-pass"); ok {
		t.Errorf("Lookup found a pass that does not exist")
	}
}

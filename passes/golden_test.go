package passes

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
)

// The golden tests of the passes. Every folder testdata/passes/<pass>/ (at
// the repository root) is named after a pass of the pipeline and holds
// cases: an input NAME.ir and the expected results of running that pass
// alone on it:
//
//	NAME.out.ir   the IR after the pass (printed by ir.Print)
//	NAME.report   what the pass reported (only when it reported something)
//	NAME.err      the error, for inputs the pass must refuse
//
// The input and the output must pass ir.Verify, and the output must parse
// back to itself. Options a case needs go on leading lines of the input:
//
//	// pass-options: quant=q8_0 target=cpu
//
// `go test ./passes -update` rewrites the expected files from what the
// passes do now; review the diff before committing it. Adding a pass's
// goldens needs no code: drop files in its folder. Run one pass's goldens
// with `go test ./passes -run 'TestGolden/<pass>'`.

var update = flag.Bool("update", false, "rewrite the expected files of the golden tests (testdata/passes/<pass>/)")

// goldenOptionsPrefix starts a line of options at the top of a golden input.
const goldenOptionsPrefix = "// pass-options:"

func TestGolden(t *testing.T) {
	root := filepath.Join(testfiles.RepoRoot(t), "testdata", "passes")
	entries, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		t.Skipf("no pass goldens yet (%s does not exist)", root)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p, ok := Lookup(e.Name())
		if !ok {
			t.Errorf("testdata/passes/%s: no pass of that name in the pipeline", e.Name())
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			cases, err := goldenInputs(filepath.Join(root, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) == 0 {
				t.Fatalf("testdata/passes/%s holds no *.ir input", e.Name())
			}
			for _, c := range cases {
				t.Run(strings.TrimSuffix(filepath.Base(c), ".ir"), func(t *testing.T) {
					for _, err := range runGolden(c, p, *update) {
						t.Error(err)
					}
				})
			}
		})
	}
}

// goldenInputs lists the case inputs in dir: *.ir files that are not
// expected outputs.
func goldenInputs(dir string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.ir"))
	if err != nil {
		return nil, err
	}
	var inputs []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".out.ir") {
			inputs = append(inputs, f)
		}
	}
	sort.Strings(inputs)
	return inputs, nil
}

// runGolden runs pass p alone on the input file and compares (or, with
// update, rewrites) the expected files beside it. It returns every problem
// found rather than failing, so the harness itself can be tested.
func runGolden(input string, p Pass, update bool) []error {
	base := strings.TrimSuffix(input, ".ir")
	outPath, reportPath, errPath := base+".out.ir", base+".report", base+".err"
	src, err := os.ReadFile(input)
	if err != nil {
		return []error{err}
	}
	opt, body, err := goldenOptions(string(src))
	if err != nil {
		return []error{fmt.Errorf("%s: %v", input, err)}
	}
	m, err := ir.Parse(body)
	if err != nil {
		return []error{fmt.Errorf("%s: the input does not parse: %v", input, err)}
	}
	if err := ir.Verify(m); err != nil {
		return []error{fmt.Errorf("%s: the input does not verify: %v", input, err)}
	}
	mg, err := New([]Pass{p}, opt)
	if err != nil {
		return []error{fmt.Errorf("%s: %v", input, err)}
	}
	res, err := mg.Run(context.Background(), m)
	var broken *BrokenIRError
	if errors.As(err, &broken) {
		// Never an expected outcome: the verifier rejecting a pass's output
		// is a bug in the pass, so -update must not enshrine it.
		return []error{fmt.Errorf("%s: %v", input, err)}
	}
	var errs []error
	check := func(path, got string) {
		if e := compareGolden(path, got, update); e != nil {
			errs = append(errs, e)
		}
	}
	if err != nil {
		check(errPath, err.Error()+"\n")
		if update {
			removeIfExists(outPath, reportPath)
		} else if fileExists(outPath) {
			errs = append(errs, fmt.Errorf("%s: the pass failed but %s expects a result", input, outPath))
		}
		return errs
	}
	out := ir.Print(res.Module)
	if m2, err := ir.Parse(out); err != nil {
		errs = append(errs, fmt.Errorf("%s: the printed output does not parse: %v", input, err))
	} else if again := ir.Print(m2); again != out {
		errs = append(errs, fmt.Errorf("%s: the output does not round-trip through Parse and Print", input))
	}
	check(outPath, out)
	report := goldenReport(res.Findings)
	switch {
	case report != "" || fileExists(reportPath) && !update:
		check(reportPath, report)
	case update:
		removeIfExists(reportPath)
	}
	if update {
		removeIfExists(errPath)
	} else if fileExists(errPath) {
		errs = append(errs, fmt.Errorf("%s: the pass succeeded but %s expects an error", input, errPath))
	}
	return errs
}

// goldenOptions reads the "// pass-options: key=value ..." lines at the top
// of a golden input and returns the options and the IR without them.
func goldenOptions(src string) (Options, string, error) {
	var opt Options
	for strings.HasPrefix(src, goldenOptionsPrefix) {
		line, rest, _ := strings.Cut(src, "\n")
		src = rest
		for _, kv := range strings.Fields(strings.TrimPrefix(line, goldenOptionsPrefix)) {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return opt, "", fmt.Errorf("pass-options: %q is not key=value", kv)
			case k == "quant":
				opt.Quant = v
			case k == "target":
				opt.Target = v
			default:
				return opt, "", fmt.Errorf("pass-options: unknown option %q (known: quant, target)", k)
			}
		}
	}
	return opt, src, nil
}

// goldenReport is the text form of a pass's findings: one line each, the
// number first so a diff shows a changed saving at a glance.
func goldenReport(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s = %s %s: %s\n", f.Key, strconv.FormatFloat(f.Value, 'g', -1, 64), f.Unit, f.Text)
	}
	return b.String()
}

// compareGolden compares got with the expected file, or rewrites the file
// when update is set and they differ.
func compareGolden(path, got string, update bool) error {
	want, err := os.ReadFile(path)
	if update {
		if err == nil && string(want) == got {
			return nil
		}
		return os.WriteFile(path, []byte(got), 0o644)
	}
	if os.IsNotExist(err) {
		return fmt.Errorf("%s is missing (run go test ./passes -update to create it); the pass gave:\n%s", path, got)
	}
	if err != nil {
		return err
	}
	if string(want) == got {
		return nil
	}
	return fmt.Errorf("%s differs (go test ./passes -update rewrites it):\n%s", path, firstDifference(string(want), got))
}

// firstDifference describes where two texts first differ, by line.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g || i >= len(wl) || i >= len(gl) {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s\nwhole output:\n%s", i+1, w, g, got)
		}
	}
	return "(identical)"
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func removeIfExists(paths ...string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// TestGoldenHarness checks the harness on a test-only pass: -update writes
// the expected files, a clean run then passes, and every kind of mismatch
// is reported.
func TestGoldenHarness(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "dead.ir")
	if err := os.WriteFile(input, []byte(tinyModule), 0o644); err != nil {
		t.Fatal(err)
	}
	expectErrs := func(what string, errs []error, mention string) {
		t.Helper()
		if mention == "" && len(errs) > 0 {
			t.Errorf("%s: %v", what, errs)
		}
		if mention != "" && (len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), mention)) {
			t.Errorf("%s: got %v, want an error mentioning %q", what, errs, mention)
		}
	}
	expectErrs("first run without -update", runGolden(input, dropDead, false), "run go test ./passes -update")
	expectErrs("-update", runGolden(input, dropDead, true), "")
	out, _ := os.ReadFile(filepath.Join(dir, "dead.out.ir"))
	report, _ := os.ReadFile(filepath.Join(dir, "dead.report"))
	if strings.Contains(string(out), "%dead") || string(report) != "removed = 1 instrs: removed 1 dead instructions\n" {
		t.Errorf("-update wrote:\n%s\n%s", out, report)
	}
	expectErrs("clean run", runGolden(input, dropDead, false), "")

	// A pass whose output changed is caught, on the IR and on the report.
	expectErrs("changed output", runGolden(input, noChange, false), "dead.out.ir differs")
	os.WriteFile(filepath.Join(dir, "dead.report"), []byte("removed = 2 instrs: removed 2 dead instructions\n"), 0o644)
	expectErrs("changed report", runGolden(input, dropDead, false), "dead.report differs")
	expectErrs("-update again", runGolden(input, dropDead, true), "")

	// A pass that breaks the IR fails even with -update, and writes nothing.
	expectErrs("broken pass", runGolden(input, breaksTheIR, true), "does not verify")
	if fileExists(filepath.Join(dir, "dead.err")) {
		t.Errorf("-update recorded a broken pass as expected")
	}

	// An input the pass refuses: -update records the error, replacing the
	// output; then a pass that succeeds is caught.
	expectErrs("-update with a failing pass", runGolden(input, fails, true), "")
	if fileExists(filepath.Join(dir, "dead.out.ir")) || !fileExists(filepath.Join(dir, "dead.err")) {
		t.Errorf("-update did not swap the output for the error")
	}
	expectErrs("failing pass, clean run", runGolden(input, fails, false), "")
	expectErrs("expected error, pass succeeds", runGolden(input, noChange, false), "expects an error")

	// Options reach the pass; bad option lines are refused.
	var log []string
	withOpts := filepath.Join(dir, "opts.ir")
	os.WriteFile(withOpts, []byte(goldenOptionsPrefix+" quant=q8_0 target=cpu\n"+tinyModule), 0o644)
	expectErrs("options", runGolden(withOpts, recorder("rec", false, &log), true), "")
	if strings.Join(log, " ") != "rec@cpu/q8_0" {
		t.Errorf("options seen by the pass: %q", log)
	}
	os.WriteFile(withOpts, []byte(goldenOptionsPrefix+" speed=11\n"+tinyModule), 0o644)
	expectErrs("unknown option", runGolden(withOpts, noChange, false), "unknown option")

	// An input that does not verify is refused before the pass runs.
	bad := filepath.Join(dir, "bad.ir")
	os.WriteFile(bad, []byte(strings.Replace(tinyModule, "%c = add %a, %b", "%c = add %a, %zz", 1)), 0o644)
	expectErrs("invalid input", runGolden(bad, noChange, true), "bad.ir")

	inputs, err := goldenInputs(dir)
	if err != nil || len(inputs) != 3 || filepath.Base(inputs[0]) != "bad.ir" || filepath.Base(inputs[1]) != "dead.ir" {
		t.Errorf("inputs: %q %v", inputs, err)
	}
}

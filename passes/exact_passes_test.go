package passes

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
)

// TestExactPassesIdempotent runs each cleanup and fusion pass twice on every
// golden input of every one of them: the second run must find nothing to do,
// so it must report nothing and leave the module byte for byte as it was.
// That is the "a pass with nothing to do changes nothing" rule, checked on
// modules each pass has already fully rewritten and on the other passes'
// inputs.
func TestExactPassesIdempotent(t *testing.T) {
	root := filepath.Join(testfiles.RepoRoot(t), "testdata", "passes")
	var inputs []string
	ps := exactPasses(t)
	for _, p := range ps {
		in, err := goldenInputs(filepath.Join(root, p.Name))
		if err != nil || len(in) == 0 {
			t.Fatalf("goldens of %s: %v (%d inputs)", p.Name, err, len(in))
		}
		inputs = append(inputs, in...)
	}
	for _, p := range ps {
		for _, path := range inputs {
			src, err := readGoldenModule(path)
			if err != nil {
				t.Fatal(err)
			}
			once := runPasses(t, src, p)
			twice := runPasses(t, once.Module, p)
			if len(twice.Findings) != 0 {
				t.Errorf("%s on %s: the second run reported %v", p.Name, path, twice.Findings)
			}
			if a, b := ir.Print(once.Module), ir.Print(twice.Module); a != b {
				t.Errorf("%s on %s: the second run changed the module:\n%s", p.Name, path, firstDifference(a, b))
			}
		}
	}
}

// readGoldenModule parses a golden input (without its option lines).
func readGoldenModule(path string) (*ir.Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, body, err := goldenOptions(string(b))
	if err != nil {
		return nil, err
	}
	return ir.Parse(body)
}

// FuzzExactPasses runs every cleanup and fusion pass on arbitrary modules
// that verify (seeded with the goldens): no pass may panic or break the IR
// (the manager verifies after each), and each must be idempotent.
func FuzzExactPasses(f *testing.F) {
	root := filepath.Join(testfiles.RepoRoot(f), "testdata", "passes")
	seeds, _ := filepath.Glob(filepath.Join(root, "*", "*.ir"))
	for _, s := range seeds {
		if m, err := readGoldenModule(s); err == nil {
			f.Add(ir.Print(m))
		}
	}
	var ps []Pass
	for _, p := range Pipeline() {
		if slices.Contains(exactPassNames, p.Name) {
			ps = append(ps, p)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := ir.Parse(src)
		if err != nil || ir.Verify(m) != nil {
			return
		}
		for _, p := range ps {
			once := runPasses(t, m, p)
			twice := runPasses(t, once.Module, p)
			if a, b := ir.Print(once.Module), ir.Print(twice.Module); a != b {
				t.Errorf("%s is not idempotent:\n%s", p.Name, firstDifference(a, b))
			}
		}
		runPasses(t, m, ps...)
	})
}

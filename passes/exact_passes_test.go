package passes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/ir"
)

// TestExactPassesIdempotent runs each cleanup and fusion pass twice on every
// golden input of every one of them: the second run must find nothing to do,
// so it must report nothing and leave the module byte for byte as it was.
// That is the "a pass with nothing to do changes nothing" rule, checked on
// modules each pass has already fully rewritten and on the other passes'
// inputs.
func TestExactPassesIdempotent(t *testing.T) {
	root := filepath.Join(repoRoot(t), "testdata", "passes")
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

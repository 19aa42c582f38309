package format

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

func TestAbortLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	w, err := Create(dir)
	must(t, err)
	for _, x := range sampleTensors(2)[:5] {
		must(t, w.WriteTensor(x.t, x.layer))
	}
	must(t, w.Abort())
	must(t, w.Abort()) // idempotent
	onlyEntries(t, parent)
	wantCategory(t, w.WriteTensor(sampleTensors(2)[6].t, 0), omexerr.Input)
	wantCategory(t, w.Commit(), omexerr.Input)
}

// TestFailedCommitLeavesNothing makes Commit fail in different ways; each
// time neither the package nor the temporary directory may remain.
func TestFailedCommitLeavesNothing(t *testing.T) {
	cases := map[string]func(w *Writer, ts []testTensor){
		"no metadata": func(w *Writer, ts []testTensor) {
			must(t, w.SetGraph(sampleGraph(ts)))
			must(t, w.SetTokenizer(sampleTokenizer()))
		},
		"graph needs an unwritten weight": func(w *Writer, ts []testTensor) {
			g := sampleGraph(ts)
			g.Nodes[0].Weights = append(g.Nodes[0].Weights, WeightRef{Name: "missing.weight", DType: "f32", Shape: []int{4}})
			must(t, w.SetMetadata(Metadata{ModelName: "x"}))
			must(t, w.SetGraph(g))
			must(t, w.SetTokenizer(sampleTokenizer()))
		},
		"target appeared meanwhile": func(w *Writer, ts []testTensor) {
			must(t, w.SetMetadata(Metadata{ModelName: "x"}))
			must(t, w.SetGraph(sampleGraph(ts)))
			must(t, w.SetTokenizer(sampleTokenizer()))
			must(t, os.WriteFile(w.dir, []byte("someone else's file"), 0o644))
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "pkg")
			w, err := Create(dir)
			must(t, err)
			ts := sampleTensors(3)
			for _, x := range ts {
				must(t, w.WriteTensor(x.t, x.layer))
			}
			setup(w, ts)
			wantCategory(t, w.Commit(), omexerr.Input)
			if name == "target appeared meanwhile" {
				b, err := os.ReadFile(dir)
				if err != nil || string(b) != "someone else's file" {
					t.Fatalf("the existing file was touched: %q %v", b, err)
				}
				onlyEntries(t, parent, "pkg")
				return
			}
			onlyEntries(t, parent)
		})
	}
}

func TestCommitOverExisting(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	writeSample(t, dir)
	if _, err := Create(dir); err == nil {
		t.Fatal("Create over an existing package without Overwrite succeeded")
	} else {
		wantCategory(t, err, omexerr.Input)
	}

	// With Overwrite the new package replaces the old one completely.
	must(t, os.WriteFile(filepath.Join(dir, "extensions", "old.txt"), []byte("old"), 0o644))
	writeSample(t, dir, Overwrite())
	onlyEntries(t, parent, "pkg")
	if _, err := os.Stat(filepath.Join(dir, "extensions", "old.txt")); !os.IsNotExist(err) {
		t.Fatalf("old package's file survived the overwrite: %v", err)
	}
	must(t, Verify(dir))

	// Overwrite never replaces something that is not a package.
	other := filepath.Join(parent, "home")
	must(t, os.MkdirAll(filepath.Join(other, "docs"), 0o755))
	if _, err := Create(other, Overwrite()); err == nil {
		t.Fatal("Overwrite replaced a directory that is not a package")
	}
	if _, err := os.Stat(filepath.Join(other, "docs")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteTensorRejectsBadInput(t *testing.T) {
	parent := t.TempDir()
	w, err := Create(filepath.Join(parent, "pkg"))
	must(t, err)
	defer w.Abort()
	good := &tensor.Tensor{Name: "a", DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 8)}
	cases := map[string]struct {
		t     *tensor.Tensor
		layer int
	}{
		"nil":                 {nil, 0},
		"empty name":          {&tensor.Tensor{DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 8)}, 0},
		"short data":          {&tensor.Tensor{Name: "b", DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 7)}, 0},
		"unknown dtype":       {&tensor.Tensor{Name: "b", DType: 7, Shape: []int{2}, Data: make([]byte, 8)}, 0},
		"no dims":             {&tensor.Tensor{Name: "b", DType: tensor.F32, Data: make([]byte, 4)}, 0},
		"zero dim":            {&tensor.Tensor{Name: "b", DType: tensor.F32, Shape: []int{2, 0}}, 0},
		"row not whole block": {&tensor.Tensor{Name: "b", DType: tensor.Q8_0, Shape: []int{2, 16}, Data: make([]byte, 32), Scales: make([]float32, 1)}, 0},
		"missing scales":      {&tensor.Tensor{Name: "b", DType: tensor.Q4_0, Shape: []int{32}, Data: make([]byte, 16)}, 0},
		"scales on f16":       {&tensor.Tensor{Name: "b", DType: tensor.F16, Shape: []int{2}, Data: make([]byte, 4), Scales: []float32{1}}, 0},
		"bad layer":           {good, -3},
		"layer too big":       {good, MaxLayer + 1},
		"too many elements":   {&tensor.Tensor{Name: "b", DType: tensor.F32, Shape: []int{1 << 16, 1 << 16}}, 0},
	}
	for name, c := range cases {
		if err := w.WriteTensor(c.t, c.layer); err == nil {
			t.Errorf("%s: accepted", name)
		} else if omexerr.CategoryOf(err) != omexerr.Input {
			t.Errorf("%s: %v is not an InputError", name, err)
		}
	}
	must(t, w.WriteTensor(good, 0)) // the writer is still usable
	wantCategory(t, w.WriteTensor(good, 1), omexerr.Input)
}

func TestSettersRejectBadInput(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "pkg"))
	must(t, err)
	defer w.Abort()
	wantCategory(t, w.SetMetadata(Metadata{}), omexerr.Input)
	wantCategory(t, w.SetGraph(Graph{GraphID: "g"}), omexerr.Input)
	tok := sampleTokenizer()
	tok.Scores = tok.Scores[:3]
	wantCategory(t, w.SetTokenizer(tok), omexerr.Input)
	tok = sampleTokenizer()
	tok.Config.TokenizerType = TokenizerBPE // needs merges
	wantCategory(t, w.SetTokenizer(tok), omexerr.Input)
	wantCategory(t, w.SetAgent(Agent{AgentID: "a"}), omexerr.Input)
	must(t, w.SetAgent(DefaultAgent(512)))
}

func TestCreateBadPath(t *testing.T) {
	if _, err := Create(""); omexerr.CategoryOf(err) != omexerr.Input {
		t.Fatalf("empty path: %v", err)
	}
	_, err := Create(filepath.Join(t.TempDir(), "no", "such", "parent", "pkg"))
	wantCategory(t, err, omexerr.Resource)
}

func TestCreateRejectsNonNames(t *testing.T) {
	for _, p := range []string{".", "..", "/", "a/.."} {
		if _, err := Create(p, Overwrite()); omexerr.CategoryOf(err) != omexerr.Input {
			t.Errorf("Create(%q): %v", p, err)
		}
	}
}

// TestWriteFailureBreaksWriter makes the weight file impossible to create:
// the failure is a ResourceError, the writer refuses further work, and
// Abort still leaves nothing behind.
func TestWriteFailureBreaksWriter(t *testing.T) {
	parent := t.TempDir()
	w, err := Create(filepath.Join(parent, "pkg"))
	must(t, err)
	weights := filepath.Join(w.tmp, WeightsDir)
	must(t, os.RemoveAll(weights))
	must(t, os.WriteFile(weights, nil, 0o644)) // a file where the directory was
	ts := sampleTensors(4)
	wantCategory(t, w.WriteTensor(ts[0].t, ts[0].layer), omexerr.Resource)
	wantCategory(t, w.WriteTensor(ts[1].t, ts[1].layer), omexerr.Resource)
	if err := w.Commit(); err == nil {
		t.Fatal("Commit of a broken writer succeeded")
	}
	onlyEntries(t, parent) // Commit cleaned up
	must(t, w.Abort())
}

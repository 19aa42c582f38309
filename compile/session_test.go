package compile

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
)

// openT opens a model input, closed when the test ends.
func openT(t *testing.T, path, tok string) frontend.Source {
	t.Helper()
	src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// stories260K opens the demo model bundled with the repository.
func stories260K(t *testing.T) frontend.Source {
	dir := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	return openT(t, filepath.Join(dir, "stories260K.bin"), filepath.Join(dir, "tok512.bin"))
}

// sameBits reports the first index where a and b differ in any bit, or -1.
func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// compareWithReference runs a prompt through Prefill and a few tokens
// through Decode on both the session and the reference runtime and requires
// bit-identical logits at every step.
func compareWithReference(t *testing.T, src frontend.Source, s *Session) {
	t.Helper()
	m, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	ref := generate.Reference(m)
	prompt := []int{1, 403, 407, 261, 378}
	for _, run := range []generate.Model{ref, s} {
		run.Reset()
	}
	want, err := ref.Prefill(prompt, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Prefill(prompt, 0)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; ; step++ {
		if i := sameBits(got, want); i >= 0 {
			t.Fatalf("step %d: logit %d is %v on the IR path, %v on the reference", step, i, got[i], want[i])
		}
		if step == 6 {
			break
		}
		next := step * 37 % len(want)
		if want, err = ref.Decode(next, len(prompt)+step); err != nil {
			t.Fatal(err)
		}
		if got, err = s.Decode(next, len(prompt)+step); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionMatchesReference: the lowered module, unoptimized and after the
// standard pipeline, computes the reference runtime's logits bit for bit.
func TestSessionMatchesReference(t *testing.T) {
	src := stories260K(t)
	m, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("unoptimized", func(t *testing.T) {
		s, err := NewSession(m, src.ReadTensor)
		if err != nil {
			t.Fatal(err)
		}
		if s.ContextLength() != 512 || s.VocabSize() != 512 || s.Module() == nil {
			t.Fatalf("context %d, vocab %d", s.ContextLength(), s.VocabSize())
		}
		compareWithReference(t, src, s)
	})
	t.Run("pipeline", func(t *testing.T) {
		s, res, err := Load(context.Background(), src, passes.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res == nil || ir.Print(res.Module) != ir.Print(s.Module()) {
			t.Fatal("the session does not run the pipeline's module")
		}
		t.Logf("passes ran: %d; findings: %d", len(res.Timings), len(res.Findings))
		compareWithReference(t, src, s)
	})
}

// TestSessionPrunedPrefill: a prefill that returns only the last row (what
// output pruning leaves) gives the same logits as the full one.
func TestSessionPrunedPrefill(t *testing.T) {
	src := stories260K(t)
	m, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewSession(m, src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	pruned := m.Clone()
	f := pruned.Func(lower.Prefill)
	b := ir.NewBuilder(pruned, f)
	f.Results = nil
	b.Return(b.Slice(f.Body[len(f.Body)-1].Results[0], 0, -1))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if got := f.Results[0].Type.String(); got != "f32[1,512]" {
		t.Fatalf("pruned prefill returns %s", got)
	}
	ps, err := NewSession(pruned, src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	a, err := full.Prefill([]int{1, 403, 407}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := ps.Prefill([]int{1, 403, 407}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if i := sameBits(a, b2); i >= 0 {
		t.Fatalf("logit %d differs: %v vs %v", i, a[i], b2[i])
	}
}

// TestSessionErrors: bad tokens, positions and modules are categorized
// errors.
func TestSessionErrors(t *testing.T) {
	src := stories260K(t)
	m, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(m, src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call func() error
		cat  omexerr.Category
	}{
		{"empty prefill", func() error { _, err := s.Prefill(nil, 0); return err }, omexerr.Input},
		{"token out of vocab", func() error { _, err := s.Prefill([]int{1, 512}, 0); return err }, omexerr.Input},
		{"negative token", func() error { _, err := s.Decode(-1, 0); return err }, omexerr.Input},
		{"past the context", func() error { _, err := s.Decode(1, 512); return err }, omexerr.Execution},
		{"prompt past the context", func() error { _, err := s.Prefill([]int{1, 2}, 511); return err }, omexerr.Execution},
	} {
		if err := c.call(); omexerr.CategoryOf(err) != c.cat {
			t.Errorf("%s: %v, want a %v error", c.name, err, c.cat)
		}
	}
	noDecode := m.Clone()
	noDecode.Funcs = noDecode.Funcs[:1]
	if _, err := NewSession(noDecode, src.ReadTensor); err == nil || !strings.Contains(err.Error(), "no function @decode") {
		t.Errorf("module without decode: %v", err)
	}
	noCtx := m.Clone()
	noCtx.Dims = nil
	if _, err := NewSession(noCtx, src.ReadTensor); err == nil {
		t.Error("a module without a ctx binding started")
	}
	if !slices.Equal([]string{m.Funcs[0].Name, m.Funcs[1].Name}, []string{lower.Prefill, lower.Decode}) {
		t.Errorf("functions %s, %s", m.Funcs[0].Name, m.Funcs[1].Name)
	}
}

package generate

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend/llama2c"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/sample"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// stories260K opens the demo model bundled in the repository's testdata.
func stories260K(t *testing.T) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	td := filepath.Join(testfiles.RepoRoot(t), "testdata", "stories260K")
	src, err := llama2c.Open(filepath.Join(td, "stories260K.bin"), filepath.Join(td, "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tok, err := tokenizer.New(src.Tokenizer())
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// recorder wraps a Model and records the calls Run makes.
type recorder struct {
	Model
	prefills  [][]int // tokens of each Prefill call
	prefillAt []int
	decodes   []int // positions of the Decode calls
	resets    int
	ctxLen    int // reported context length when > 0
	logitsCut int // drop this many logits from every answer (a broken model)
}

func (r *recorder) Prefill(tokens []int, pos int) ([]float32, error) {
	r.prefills = append(r.prefills, append([]int(nil), tokens...))
	r.prefillAt = append(r.prefillAt, pos)
	l, err := r.Model.Prefill(tokens, pos)
	return l[:len(l)-r.logitsCut], err
}

func (r *recorder) Decode(token, pos int) ([]float32, error) {
	r.decodes = append(r.decodes, pos)
	return r.Model.Decode(token, pos)
}

func (r *recorder) Reset() { r.resets++; r.Model.Reset() }

func (r *recorder) ContextLength() int {
	if r.ctxLen > 0 {
		return r.ctxLen
	}
	return r.Model.ContextLength()
}

var greedy = Options{Sampling: sample.Params{Temperature: 0, TopP: 1, RepetitionPenalty: 1}}

// TestRunPrefillsOnceThenDecodes: the prompt goes through one Prefill at
// position 0 after a Reset, each generated token through Decode at the next
// position, and the tokens are the ones a token-by-token Forward loop picks.
func TestRunPrefillsOnceThenDecodes(t *testing.T) {
	m, tok := stories260K(t)
	rec := &recorder{Model: Reference(m)}
	opt := greedy
	opt.MaxTokens = 20
	var out strings.Builder
	res, err := Run(context.Background(), rec, tok, "Once upon a time", opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.resets != 1 || len(rec.prefills) != 1 || rec.prefillAt[0] != 0 || !slices.Equal(rec.prefills[0], res.PromptIDs) {
		t.Fatalf("resets %d, prefill calls %v at %v, prompt %v", rec.resets, rec.prefills, rec.prefillAt, res.PromptIDs)
	}
	if len(res.IDs) != 20 || len(rec.decodes) != 19 {
		t.Fatalf("%d tokens generated with %d decodes", len(res.IDs), len(rec.decodes))
	}
	for i, pos := range rec.decodes {
		if want := len(res.PromptIDs) + i; pos != want {
			t.Fatalf("decode %d at position %d, want %d", i, pos, want)
		}
	}
	// The same greedy choice, computed one Forward at a time.
	m.Reset()
	var logits []float32
	ids := append([]int(nil), res.PromptIDs...)
	for pos, id := range ids {
		if logits, err = m.Forward(id, pos); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		next := 0
		for i, l := range logits {
			if l > logits[next] {
				next = i
			}
		}
		ids = append(ids, next)
		if logits, err = m.Forward(next, len(ids)-1); err != nil {
			t.Fatal(err)
		}
	}
	if got := append(append([]int(nil), res.PromptIDs...), res.IDs...); !slices.Equal(got, ids) {
		t.Fatalf("Run picked %v, the Forward loop %v", got, ids)
	}
	if !strings.HasPrefix(out.String(), "Once upon a time") || !strings.HasSuffix(out.String(), res.Text) {
		t.Errorf("streamed %q, generated %q", out.String(), res.Text)
	}
}

// TestRunContextFull stops when the context the model reports is full.
func TestRunContextFull(t *testing.T) {
	m, tok := stories260K(t)
	rec := &recorder{Model: Reference(m), ctxLen: 8}
	res, err := Run(context.Background(), rec, tok, "Once upon a time", greedy, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != StopContextFull || len(res.PromptIDs)+len(res.IDs) != 9 || slices.Max(rec.decodes) != 7 {
		t.Fatalf("reason %s after %d+%d tokens, decodes at %v", res.Reason, len(res.PromptIDs), len(res.IDs), rec.decodes)
	}
	if _, err := Run(context.Background(), &recorder{Model: Reference(m), ctxLen: 3}, tok, "Once upon a time", greedy, &strings.Builder{}); omexerr.CategoryOf(err) != omexerr.Input {
		t.Fatalf("a prompt longer than the context: %v", err)
	}
}

// TestRunRejectsWrongLogits: a model that answers with the wrong number of
// logits is an execution error, not an out-of-range read.
func TestRunRejectsWrongLogits(t *testing.T) {
	m, tok := stories260K(t)
	_, err := Run(context.Background(), &recorder{Model: Reference(m), logitsCut: 1}, tok, "Once", greedy, &strings.Builder{})
	if omexerr.CategoryOf(err) != omexerr.Execution || !strings.Contains(err.Error(), "511 logits") {
		t.Fatalf("got %v", err)
	}
}

// TestReferencePrefill: Reference's Prefill equals Forward token by token
// and refuses an empty prompt.
func TestReferencePrefill(t *testing.T) {
	m, _ := stories260K(t)
	r := Reference(m)
	if r.ContextLength() != 512 || r.VocabSize() != 512 {
		t.Fatalf("context %d, vocab %d", r.ContextLength(), r.VocabSize())
	}
	got, err := r.Prefill([]int{1, 403, 407}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got = append([]float32(nil), got...)
	r.Reset()
	for pos, id := range []int{1, 403} {
		if _, err := m.Forward(id, pos); err != nil {
			t.Fatal(err)
		}
	}
	want, err := r.Prefill([]int{407}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatal("prefill of three tokens differs from two forwards and a prefill of the third")
	}
	if _, err := r.Prefill(nil, 0); omexerr.CategoryOf(err) != omexerr.Input {
		t.Fatalf("empty prefill: %v", err)
	}
}

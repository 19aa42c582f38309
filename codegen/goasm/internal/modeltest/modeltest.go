// Package modeltest holds the checks every generated test model
// (internal/testmodels) runs: its files are what the generator makes now,
// and it computes the IR interpreter's logits bit for bit, allocating
// nothing per token.
package modeltest

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm/internal/modelset"
	"github.com/omex-dev/omex/compile"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// NewModel is a generated package's NewFromWeights, as a generate.Model.
type NewModel func(get func(string) (*tensor.Tensor, error)) (generate.Model, error)

// storiesGolden is run.c's greedy run of stories260K: "Once upon a time"
// (BOS, then 403 407 261 378) and 252 more tokens.
const storiesGolden = "golden/stories260K.run_c.once_upon.t0.n256.ids.txt"

// UpToDate checks that the package in the working directory holds exactly
// the files the generator makes for it now.
func UpToDate(t *testing.T, pkg string) {
	m, err := modelset.ByPackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	shared := ""
	if m.IR == "" {
		shared = testfiles.Shared(t)
	}
	files, err := m.Files(shared)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		have, err := os.ReadFile(f.Name)
		if err != nil || !bytes.Equal(have, f.Data) {
			t.Errorf("%s is not what codegen/goasm generates now; run go generate ./codegen/goasm/internal/testmodels", f.Name)
		}
	}
	gen, _ := filepath.Glob("*_gen.*")
	if len(gen) != len(files) {
		t.Errorf("the package has %d generated files, the generator makes %d", len(gen), len(files))
	}
}

// Check runs the generated model of package pkg (built by newModel over
// the repacked weights) against the interpreter on the same compiled
// module: a prompt's prefill, then greedy decoding, every logit compared
// bit for bit. stories260K must also reproduce run.c's 256 golden ids.
// Then it measures allocations per decoded token, which must be zero.
func Check(t *testing.T, pkg string, newModel NewModel) {
	m, err := modelset.ByPackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := targets.Lookup(m.Target)
	if err != nil {
		t.Fatal(err)
	}
	if !tg.Supported() {
		t.Skipf("this machine does not run %s (its assembly is checked elsewhere: under qemu for arm64)", tg)
	}
	shared := ""
	if m.IR == "" {
		shared = testfiles.Shared(t)
	}
	c, err := m.Compile(shared)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	gen, err := newModel(c.Weights())
	if err != nil {
		t.Fatal(err)
	}
	var ref generate.Model
	prompt, steps := []int{1, 403, 407, 261, 378}, 252
	var golden []int
	switch {
	case m.IR != "":
		// Only @decode: the interpreter runs it token by token.
		ip, err := interp.New(c.Module, c.Read)
		if err != nil {
			t.Fatal(err)
		}
		ref = &decodeOnly{ip: ip}
		prompt, steps = []int{1, 5, 17, 39, 2}, gen.ContextLength()-5
	default:
		if ref, err = compile.NewSession(c.Module, c.Read); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Path, "stories260K.bin") {
			golden = testfiles.ReadIDs(t, filepath.Join(shared, storiesGolden))
		} else {
			prompt, steps = []int{1, 9, 70, 300, 14}, 60
		}
	}
	got, err := gen.Prefill(prompt, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Prefill(prompt, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]int(nil), prompt[1:]...)
	pos := len(prompt)
	for step := 0; ; step++ {
		if err := sameLogits(got, want); err != nil {
			t.Fatalf("position %d: %v", pos-1, err)
		}
		if step == steps {
			break
		}
		next := argmax(got)
		ids = append(ids, next)
		if got, err = gen.Decode(next, pos); err != nil {
			t.Fatal(err)
		}
		if want, err = ref.Decode(next, pos); err != nil {
			t.Fatal(err)
		}
		pos++
	}
	if golden != nil {
		if len(ids) < len(golden) || !slices.Equal(ids[:len(golden)], golden) {
			t.Errorf("greedy ids differ from run.c's:\n got %v\nwant %v", ids, golden)
		}
	}
	t.Logf("%s on %s: %d positions, logits bit-identical to the interpreter", m.Package, tg.Name, pos)

	checkPrefill(t, gen, ref)

	// Decoding allocates nothing (the position is rewritten each time).
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := gen.Decode(ids[0], 3); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per token", allocs)
	}
	// Bad calls are errors, not panics.
	if _, err := gen.Decode(gen.VocabSize(), 0); err == nil {
		t.Error("a token outside the vocabulary was accepted")
	}
	gen.Reset()
	if _, err := gen.Decode(1, 5); err == nil {
		t.Error("a position past the cached context was accepted after Reset")
	}
	if _, err := gen.Decode(1, gen.ContextLength()); err == nil {
		t.Error("a position outside the context was accepted")
	}
}

// decodeOnly runs a module that has only @decode on the interpreter, one
// token per call (Prefill too).
type decodeOnly struct{ ip *interp.Interp }

func (d *decodeOnly) Prefill(tokens []int, pos int) ([]float32, error) {
	var l []float32
	for i, tok := range tokens {
		var err error
		if l, err = d.Decode(tok, pos+i); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (d *decodeOnly) Decode(token, pos int) ([]float32, error) {
	out, err := d.ip.Call("decode", interp.Tokens(token), interp.Scalar(pos))
	if err != nil {
		return nil, err
	}
	return out[0].F32, nil
}

func (d *decodeOnly) Reset()             {}
func (d *decodeOnly) ContextLength() int { return 0 }
func (d *decodeOnly) VocabSize() int     { return 0 }

func sameLogits(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d logits, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("logit %d = %g (%#08x), the interpreter gives %g (%#08x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	return nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// checkPrefill runs the generated Prefill on prompts of several lengths (1,
// a few, more than 16, more than one chunk of 32 rows) and compares its
// logits bit for bit with the reference's prefill (the interpreter) and
// with the generated Decode run token by token; then a prefill that
// continues a context, and the allocations of a repeated prefill (none
// after the first).
func checkPrefill(t *testing.T, gen, ref generate.Model) {
	t.Helper()
	vocab, ctx := gen.VocabSize(), gen.ContextLength()
	prompt := make([]int, min(70, ctx))
	for i := range prompt {
		prompt[i] = (i*7919 + 13) % vocab
	}
	prompt[0] = 1
	lengths := []int{1, 5, 17, 39, 70}
	for _, n := range lengths {
		if n > len(prompt) {
			continue
		}
		p := prompt[:n]
		gen.Reset()
		got, err := gen.Prefill(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append([]float32(nil), got...)
		ref.Reset()
		want, err := ref.Prefill(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameLogits(got, want); err != nil {
			t.Fatalf("prefill of %d tokens vs the interpreter: %v", n, err)
		}
		gen.Reset()
		var step []float32
		for i, tok := range p {
			if step, err = gen.Decode(tok, i); err != nil {
				t.Fatal(err)
			}
		}
		if err := sameLogits(got, step); err != nil {
			t.Fatalf("prefill of %d tokens vs Decode per token: %v", n, err)
		}
	}
	// A second prefill continues the context: 5 then 12 tokens are the 17.
	if len(prompt) >= 17 {
		gen.Reset()
		if _, err := gen.Prefill(prompt[:5], 0); err != nil {
			t.Fatal(err)
		}
		got, err := gen.Prefill(prompt[5:17], 5)
		if err != nil {
			t.Fatal(err)
		}
		got = append([]float32(nil), got...)
		gen.Reset()
		want, err := gen.Prefill(prompt[:17], 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameLogits(got, want); err != nil {
			t.Fatalf("prefill 5 + 12 vs 17 at once: %v", err)
		}
	}
	n := min(len(prompt), 17)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := gen.Prefill(prompt[:n], 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Prefill allocates %v times per call after the first", allocs)
	}
	if _, err := gen.Prefill([]int{1, -2}, 0); err == nil {
		t.Error("a negative token was accepted by Prefill")
	}
	gen.Reset()
	if _, err := gen.Prefill([]int{1, 2}, 3); err == nil {
		t.Error("a prefill past the cached context was accepted")
	}
	// Leave a context of 5 for the checks that follow.
	if _, err := gen.Prefill(prompt[:min(5, len(prompt))], 0); err != nil {
		t.Fatal(err)
	}
}

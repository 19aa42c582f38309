package passes

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/tensor"
)

// The numerical tests of the passes that must not change numbers: on real
// models lowered from their files, the interpreter's logits for a prompt
// (prefill, every row) and for several decode steps after it must be bit
// for bit those of the unoptimized module, after each pass alone and after
// every prefix of the pipeline's run of them (the last prefix being the
// whole cleanup and fusion pipeline).

// exactPassNames are the passes that must not change a single bit.
var exactPassNames = []string{"canonicalize", "cse", "dce", "fuse-qkv", "fuse-gate-up", "fuse-rope", "fuse-norm-matmul", "fuse-residual"}

// exactPasses are the passes checked here, in pipeline order.
func exactPasses(t *testing.T) []Pass {
	t.Helper()
	var ps []Pass
	for _, p := range Pipeline() {
		if slices.Contains(exactPassNames, p.Name) {
			ps = append(ps, p)
		}
	}
	if len(ps) != 8 {
		t.Fatalf("found %d of the 8 exact passes in the pipeline", len(ps))
	}
	return ps
}

// numericModels are the models the passes run on: stories260K (llama2.c,
// interleaved rope) and TinyStories-656K from Hugging Face safetensors
// (half-split rope, eps 1e-6) and from GGUF in F16 and Q8_0, so the fused
// ops read every weight type those files hold.
func numericModels(td string) []struct {
	name, path, tok string
	prompt          []int
} {
	s260 := filepath.Join(td, "models", "stories260K")
	ts := filepath.Join(td, "models", "tinystories-656k")
	return []struct {
		name, path, tok string
		prompt          []int
	}{
		{"stories260K", filepath.Join(s260, "stories260K.bin"), filepath.Join(s260, "tok512.bin"), []int{1, 403, 407, 261, 378, 14}},
		{"tinystories-656k", ts, "", []int{1, 1314, 609, 263, 399}},
		{"tinystories-656k-f16", filepath.Join(ts, "TinyStories-656K.f16.gguf"), "", []int{1, 1314, 609, 263, 399}},
		{"tinystories-656k-q8_0", filepath.Join(ts, "tinystories-656k-q8_0.gguf"), "", []int{1, 1314, 609, 263, 399}},
	}
}

// decodeSteps is how many tokens each run decodes after its prompt.
const decodeSteps = 4

// cachedWeights reads each weight of src once (the interpreter never writes
// weight data, so every module's run may share it).
func cachedWeights(src frontend.Source) func(string) (*tensor.Tensor, error) {
	var mu sync.Mutex
	cache := map[string]*tensor.Tensor{}
	return func(name string) (*tensor.Tensor, error) {
		mu.Lock()
		defer mu.Unlock()
		if w, ok := cache[name]; ok {
			return w, nil
		}
		w, err := src.ReadTensor(name)
		if err == nil {
			cache[name] = w
		}
		return w, err
	}
}

// logitsRun is what one module computed: prefill's logits (every prompt
// row), then each decode step's, and the tokens decoded.
type logitsRun struct {
	steps  [][]float32
	tokens []int
}

// runLogits runs prompt through prefill and then decodes: the next token
// of each step is given (when tokens is non-nil, so every module sees the
// same inputs) or the greedy choice.
func runLogits(t *testing.T, m *ir.Module, weights func(string) (*tensor.Tensor, error), prompt, tokens []int) logitsRun {
	t.Helper()
	ip, err := interp.New(m, weights)
	if err != nil {
		t.Fatalf("interp.New: %v", err)
	}
	out, err := ip.Call(lower.Prefill, interp.Tokens(prompt...), interp.Scalar(0))
	if err != nil {
		t.Fatalf("prefill: %v", err)
	}
	run := logitsRun{steps: [][]float32{out[0].F32}}
	for s := 0; s < decodeSteps; s++ {
		last := run.steps[len(run.steps)-1]
		vocab := out[0].Shape[len(out[0].Shape)-1]
		next := argmaxF32(last[len(last)-vocab:])
		if tokens != nil {
			next = tokens[s]
		}
		run.tokens = append(run.tokens, next)
		out, err = ip.Call(lower.Decode, interp.Tokens(next), interp.Scalar(len(prompt)+s))
		if err != nil {
			t.Fatalf("decode step %d: %v", s, err)
		}
		run.steps = append(run.steps, out[0].F32)
	}
	return run
}

func argmaxF32(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// firstBitDifference describes the first logit whose bits differ, or
// returns "".
func firstBitDifference(want, got logitsRun) string {
	for s := range want.steps {
		w, g := want.steps[s], got.steps[s]
		if len(w) != len(g) {
			return fmt.Sprintf("step %d: %d logits, want %d", s, len(g), len(w))
		}
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
				return fmt.Sprintf("step %d (0 is prefill), logit %d: %v (bits %08x), want %v (bits %08x)",
					s, i, g[i], math.Float32bits(g[i]), w[i], math.Float32bits(w[i]))
			}
		}
	}
	return ""
}

// runPasses runs the passes, in order, on a copy of m.
func runPasses(t *testing.T, m *ir.Module, ps ...Pass) *Result {
	t.Helper()
	mg, err := New(ps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mg.Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// instrCounts is the number of instructions of each function, for logs.
func instrCounts(m *ir.Module) string {
	s := ""
	for _, f := range m.Funcs {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", f.Name, len(f.Body))
	}
	return s
}

func TestNumericBitIdentical(t *testing.T) {
	td := testfiles.Shared(t)
	ps := exactPasses(t)
	for _, model := range numericModels(td) {
		t.Run(model.name, func(t *testing.T) {
			src, err := importer.Open(model.path, importer.OpenOptions{Tokenizer: model.tok})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			base, err := lower.Lower(src)
			if err != nil {
				t.Fatal(err)
			}
			weights := cachedWeights(src)
			want := runLogits(t, base, weights, model.prompt, nil)
			t.Logf("lowered: %s; decoded tokens %v", instrCounts(base), want.tokens)
			check := func(what string, res *Result) {
				t.Helper()
				got := runLogits(t, res.Module, weights, model.prompt, want.tokens)
				if d := firstBitDifference(want, got); d != "" {
					t.Errorf("%s changed the logits: %s", what, d)
				}
			}
			for _, p := range ps {
				res := runPasses(t, base, p)
				t.Logf("%-16s alone: %s", p.Name, instrCounts(res.Module))
				// On a lowered Llama every fusion has work to do: a
				// fusion that found none would make its check vacuous.
				if strings.HasPrefix(p.Name, "fuse-") && len(res.Findings) == 0 {
					t.Errorf("%s found nothing to fuse in the lowered %s", p.Name, model.name)
				}
				check(p.Name+" alone", res)
			}
			var full *Result
			for i := range ps {
				full = runPasses(t, base, ps[:i+1]...)
				t.Logf("pipeline through %-16s %s", ps[i].Name+":", instrCounts(full.Module))
				check("the pipeline through "+ps[i].Name, full)
			}
			// The comparison can fail: a fused op with a slightly
			// different eps gives other bits.
			mutated := full.Module.Clone()
			in := mutated.Func(lower.Decode).Body[1]
			if !in.Attrs.Has("eps") {
				t.Fatalf("expected a fused op with an rmsnorm prologue, got %s", in)
			}
			in.Attrs["eps"] = ir.FloatAttr(in.Attrs["eps"].Float * 2)
			if d := firstBitDifference(want, runLogits(t, mutated, weights, model.prompt, want.tokens)); d == "" {
				t.Errorf("doubling the eps of %s changed no logit bit", in)
			}
		})
	}
}

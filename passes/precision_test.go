package passes

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// precisionStory is the fixed text the accuracy of each policy is measured
// on (its first MeasureTokens tokens, BOS first), teacher-forced.
const precisionStory = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
	"One day, she saw a big red ball under a tree. She ran to the ball and picked it up. Lily was very happy. " +
	"She played with the ball all day long. When the sun went down, she went home and told her mom about her fun day. " +
	"The next morning, Lily and her friend Tom went to the lake to see the ducks. They gave the ducks some bread " +
	"and laughed when the ducks quacked. It was the best day ever."

// precisionTolerances are the least top-1 agreement and the largest mean
// KL divergence (nats) each policy must keep against the unconverted model,
// on both the story and the pass's own measurement, for stories260K and
// TinyStories-656K (64 positions each, so one disagreement is 1.6%).
// Measured (stories260K / TinyStories-656K, worst of the two texts):
//
//	f16   top-1 100% / 100%     KL 2.4e-7 / 0       (TinyStories' f32 weights are all exact halves)
//	bf16  top-1 100% / 100%     KL 3.1e-5 / 0
//	q8_0  top-1 98.4% / 96.9%   KL 2.2e-4 / 3.0e-4
//	q4_0  top-1 90.6% / 85.9%   KL 3.5e-2 / 4.7e-2  (embedding/classifier at q8_0)
//
// The bounds leave a margin of a few positions on top-1 and about 3x or
// more on KL; the computation is deterministic, so they move only when the
// numbers do.
var precisionTolerances = map[string]struct{ top1, kl float64 }{
	"f16":  {0.98, 1e-4},
	"bf16": {0.95, 1e-3},
	"q8_0": {0.95, 2e-3},
	"q4_0": {0.75, 0.15},
}

// TestPrecisionAccuracy applies every policy to stories260K and
// TinyStories-656K (after the whole cleanup and fusion pipeline and
// pruning, as it runs in the compiler), checks the accuracy the pass
// reports and an independent measurement over a fixed story against the
// tolerances, and that every policy's module runs.
func TestPrecisionAccuracy(t *testing.T) {
	td := testfiles.Shared(t)
	precisionPass, _ := Lookup("precision")
	prune, _ := Lookup("prune-outputs")
	for _, model := range numericModels(td)[:2] {
		t.Run(model.name, func(t *testing.T) {
			src, err := importer.Open(model.path, importer.OpenOptions{Tokenizer: model.tok})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			tok, err := tokenizer.New(src.Tokenizer())
			if err != nil {
				t.Fatal(err)
			}
			story := tok.Encode(precisionStory, tokenizer.EncodeOptions{AddBOS: true})
			if len(story) < MeasureTokens || story[0] != MeasureStart {
				t.Fatalf("the story is %d tokens starting with %d; want at least %d starting with BOS %d", len(story), story[0], MeasureTokens, MeasureStart)
			}
			story = story[:MeasureTokens]
			lowered, err := lower.Lower(src)
			if err != nil {
				t.Fatal(err)
			}
			weights := cachedWeights(src)
			base := runPasses(t, lowered, append(exactPasses(t), prune)...).Module
			for _, q := range []string{"f16", "bf16", "q8_0", "q4_0"} {
				mg, err := New([]Pass{precisionPass}, Options{Quant: q, Weights: weights})
				if err != nil {
					t.Fatal(err)
				}
				res, err := mg.Run(context.Background(), base)
				if err != nil {
					t.Fatal(err)
				}
				top1, ok1 := res.Finding("precision", "top1_agreement")
				kl, ok2 := res.Finding("precision", "kl_divergence")
				if !ok1 || !ok2 {
					t.Fatalf("%s: no accuracy findings: %v", q, res.Findings)
				}
				acc, err := MeasureAccuracy(context.Background(), base, res.Module, weights, story, len(story))
				if err != nil {
					t.Fatal(err)
				}
				size, _ := res.Finding("precision", "weight_bytes")
				t.Logf("%-5s weights %s | own text: top-1 %.2f%%, KL %.3g nats | story: top-1 %.2f%%, KL %.3g nats (max %.3g)",
					q, byteSize(int64(size.Value)), 100*top1.Value, kl.Value, 100*acc.Top1, acc.KL, acc.MaxKL)
				tol := precisionTolerances[q]
				for _, m := range []struct {
					what     string
					top1, kl float64
				}{{"own text", top1.Value, kl.Value}, {"story", acc.Top1, acc.KL}} {
					if m.top1 < tol.top1 || m.kl > tol.kl {
						t.Errorf("%s on the %s: top-1 %.4f (want >= %.2f), KL %.4g (want <= %.3g)", q, m.what, m.top1, tol.top1, m.kl, tol.kl)
					}
				}
				if acc.Positions != MeasureTokens {
					t.Errorf("%s: %d positions measured", q, acc.Positions)
				}
			}
		})
	}
}

// TestPrecisionPolicy checks what each policy does to stories260K's
// declared types: matrices per policy, embedding/classifier at 8 bits
// under q4_0, norms untouched, and ffn_down (rows of 172) kept f32 for the
// block types and named in the report.
func TestPrecisionPolicy(t *testing.T) {
	td := testfiles.Shared(t)
	s := filepath.Join(td, "models", "stories260K")
	src, err := importer.Open(filepath.Join(s, "stories260K.bin"), importer.OpenOptions{Tokenizer: filepath.Join(s, "tok512.bin")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	precisionPass, _ := Lookup("precision")
	for _, c := range []struct {
		quant                      string
		matrix, table, down, norms ir.Elem
	}{
		{"f32", ir.F32, ir.F32, ir.F32, ir.F32},
		{"f16", ir.F16, ir.F16, ir.F16, ir.F32},
		{"bf16", ir.BF16, ir.BF16, ir.BF16, ir.F32},
		{"q8_0", ir.Q8_0, ir.Q8_0, ir.F32, ir.F32},
		{"q4_0", ir.Q4_0, ir.Q8_0, ir.F32, ir.F32},
	} {
		mg, err := New([]Pass{precisionPass}, Options{Quant: c.quant})
		if err != nil {
			t.Fatal(err)
		}
		res, err := mg.Run(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Module.Weights {
			want := c.matrix
			switch {
			case w.Name == "token_embd.weight":
				want = c.table
			case strings.HasSuffix(w.Name, "ffn_down.weight"):
				want = c.down
			case strings.HasSuffix(w.Name, "norm.weight"):
				want = c.norms
			}
			if w.Type.Elem != want {
				t.Errorf("--quant=%s: @%s : %s, want %s", c.quant, w.Name, w.Type, want)
			}
		}
		kept, ok := res.Finding("precision", "weights_kept_partial_blocks")
		if blocks := c.quant == "q8_0" || c.quant == "q4_0"; blocks != ok || ok && (kept.Value != 5 || !strings.Contains(kept.Text, "@blk.4.ffn_down.weight (f32[64,172])")) {
			t.Errorf("--quant=%s: partial-block finding %v %+v", c.quant, ok, kept)
		}
		if _, measured := res.Finding("precision", "top1_agreement"); measured {
			t.Errorf("--quant=%s: measured accuracy without weights", c.quant)
		}
	}
}

// TestConvertMatchesGGUFQ8 quantizes TinyStories-656K's f32 safetensors
// weights with tensor.Convert and compares them with the public Q8_0 GGUF
// conversion of the same model: bit for bit, scales included. The Q and K
// projections are left out: llama.cpp's converter permutes their rows.
func TestConvertMatchesGGUFQ8(t *testing.T) {
	td := testfiles.Shared(t)
	ts := filepath.Join(td, "models", "tinystories-656k")
	f32, err := importer.Open(ts, importer.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	q8, err := importer.Open(filepath.Join(ts, "tinystories-656k-q8_0.gguf"), importer.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	compared := 0
	for _, ti := range q8.Tensors() {
		if ti.DType != tensor.Q8_0 || strings.Contains(ti.Name, "attn_q.") || strings.Contains(ti.Name, "attn_k.") {
			continue
		}
		want, err := q8.ReadTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		src, err := f32.ReadTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tensor.Convert(src, tensor.Q8_0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Data, want.Data) || !slices.Equal(got.Scales, want.Scales) {
			t.Errorf("%s: Convert differs from llama.cpp's Q8_0", ti.Name)
		}
		compared++
	}
	t.Logf("%d Q8_0 tensors bit-identical to the GGUF", compared)
	if compared < 5 {
		t.Fatalf("only %d tensors compared", compared)
	}
}

package passes

import (
	"math"
	"testing"

	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
)

// lastRow returns the last row of a logits matrix of the given width.
func lastRow(x []float32, vocab int) []float32 { return x[len(x)-vocab:] }

// sameBitsF32 reports the first index where a and b differ bitwise, or -1.
func sameBitsF32(a, b []float32) int {
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

// TestPruneOutputsBitIdentical runs each real model lowered, pruned alone,
// and after the whole cleanup and fusion pipeline then pruning: prefill's
// one row must be the last row of the unpruned logits bit for bit, and the
// decode steps after it (which read the KV cache prefill wrote) identical.
func TestPruneOutputsBitIdentical(t *testing.T) {
	td := testfiles.Shared(t)
	prune, _ := Lookup("prune-outputs")
	for _, model := range numericModels(td) {
		t.Run(model.name, func(t *testing.T) {
			src, err := importer.Open(model.path, importer.OpenOptions{Tokenizer: model.tok})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			m, err := lower.Lower(src)
			if err != nil {
				t.Fatal(err)
			}
			vocab := src.Config().Vocab
			weights := cachedWeights(src)
			want := runLogits(t, m, weights, model.prompt, nil)
			if n := len(want.steps[0]); n != len(model.prompt)*vocab {
				t.Fatalf("unpruned prefill gave %d logits, want %d rows of %d", n, len(model.prompt), vocab)
			}
			for _, variant := range []struct {
				name   string
				passes []Pass
			}{
				{"alone", []Pass{prune}},
				{"after-fusion", append(exactPasses(t), prune)},
			} {
				res := runPasses(t, m, variant.passes...)
				pf := res.Module.Func(lower.Prefill)
				if got := pf.Results[0].Type.String(); got != "f32[1,"+itoa(vocab)+"]" {
					t.Fatalf("%s: prefill returns %s", variant.name, got)
				}
				got := runLogits(t, res.Module, weights, model.prompt, want.tokens)
				if i := sameBitsF32(lastRow(want.steps[0], vocab), got.steps[0]); i >= 0 {
					t.Errorf("%s: prefill's last-row logit %d differs", variant.name, i)
				}
				for s := 1; s < len(want.steps); s++ {
					if i := sameBitsF32(want.steps[s], got.steps[s]); i >= 0 {
						t.Errorf("%s: decode step %d logit %d differs", variant.name, s, i)
					}
				}
				f, ok := res.Finding("prune-outputs", "flops_saved_per_token")
				cfg := src.Config()
				// The classifier (2·V·D) and the final rmsnorm (4·D) per row.
				if wantFlops := float64(2*cfg.Vocab*cfg.Dim + 4*cfg.Dim); !ok || f.Value != wantFlops {
					t.Errorf("%s: flops_saved_per_token %v (%v), want %v", variant.name, f.Value, ok, wantFlops)
				}
				t.Logf("%s: %s", variant.name, f.Text)
			}
		})
	}
}

func itoa(n int) string { return ir.C(n).String() }

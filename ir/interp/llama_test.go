package interp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/model"
)

// llamaCase is one model shape the interpreter must reproduce exactly.
type llamaCase struct {
	name string
	cfg  model.Config
	form func(part string) string // stored dtype per 2-D weight (nil: f32)
}

// mixedForms stores weights in every dtype the kernels read.
func mixedForms(part string) string {
	switch part {
	case "attn_q", "ffn_up":
		return "q8_0"
	case "attn_k", "ffn_gate":
		return "bf16"
	case "attn_output":
		return "q4_0"
	}
	return "f32"
}

func llamaCases() []llamaCase {
	base := model.Config{Dim: 64, Hidden: 96, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 8, Vocab: 100, SeqLen: 32,
		RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, QKVBias: true, OutputBias: true}
	var cases []llamaCase
	for _, layout := range []model.RopeLayout{model.RopeInterleaved, model.RopeHalfSplit} {
		c := base
		c.RopeLayout = layout
		cases = append(cases, llamaCase{fmt.Sprintf("%s/gqa-bias-mixed", layout), c, mixedForms})
		c.QKVBias, c.OutputBias, c.Tied, c.KVHeads, c.RopeTheta = false, false, true, 8, 500000
		cases = append(cases, llamaCase{fmt.Sprintf("%s/mha-tied-f32", layout), c, nil})
	}
	return cases
}

// TestLlamaMatchesModel runs a hand-lowered 2-layer Llama module on random
// weights and compares its logits with runtime/model.Forward on the same
// weights, bit for bit, at every position: decoding token by token, a
// prefill followed by decode steps, a chunked prefill, and every row of
// one long call.
func TestLlamaMatchesModel(t *testing.T) {
	for i, c := range llamaCases() {
		t.Run(c.name, func(t *testing.T) {
			ws := llamaWeights(c.cfg, uint64(i+1), c.form)
			ref, err := model.New(c.cfg, ws.get)
			if err != nil {
				t.Fatal(err)
			}
			ip := newInterp(t, lowerLlama(t, c.cfg, ws.get), ws.get)
			r := rand.New(rand.NewPCG(uint64(i), 3))
			tokens := make([]int, 20)
			for j := range tokens {
				tokens[j] = r.IntN(c.cfg.Vocab)
			}
			var want [][]float32
			for pos, tok := range tokens {
				lg, err := ref.Forward(tok, pos)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, append([]float32(nil), lg...))
			}

			for pos, tok := range tokens {
				wantBits(t, fmt.Sprintf("decode at %d", pos), call(t, ip, "decode", interp.Tokens(tok), interp.Scalar(pos)), want[pos])
			}

			ip.Reset()
			wantBits(t, "prefill of 7", call(t, ip, "prefill", interp.Tokens(tokens[:7]...), interp.Scalar(0)), want[6])
			for pos := 7; pos < len(tokens); pos++ {
				wantBits(t, fmt.Sprintf("decode after prefill at %d", pos), call(t, ip, "decode", interp.Tokens(tokens[pos]), interp.Scalar(pos)), want[pos])
			}

			ip.Reset()
			call(t, ip, "prefill", interp.Tokens(tokens[:3]...), interp.Scalar(0))
			wantBits(t, "second chunk", call(t, ip, "prefill", interp.Tokens(tokens[3:11]...), interp.Scalar(3)), want[10])
			wantBits(t, "decode after chunks", call(t, ip, "decode", interp.Tokens(tokens[11]), interp.Scalar(11)), want[11])

			ip.Reset()
			all := call(t, ip, "all", interp.Tokens(tokens...), interp.Scalar(0))
			v := c.cfg.Vocab
			for pos := range tokens {
				wantBits(t, fmt.Sprintf("row %d of all", pos), all[pos*v:(pos+1)*v], want[pos])
			}

			// Rewinding to an earlier position replays it exactly.
			wantBits(t, "rewind", call(t, ip, "decode", interp.Tokens(tokens[5]), interp.Scalar(5)), want[5])
		})
	}
}

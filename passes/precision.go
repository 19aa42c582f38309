package passes

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/tensor"
)

// The precision policy (--quant), weight by weight. What a weight is comes
// from how the module's instructions read it:
//
//	weight                                 f32    f16    bf16   q8_0   q4_0
//	matrices (projections, FFN)            -      f16    bf16   q8_0   q4_0
//	embedding table and classifier         -      f16    bf16   q8_0   q8_0
//	norm scales, biases                    -      -      -      -      -
//
// "-" keeps the weight as stored. The embedding and the classifier (the
// matrix that makes the logits; with tied embeddings they are one tensor)
// stay at 8 bits under q4_0: the classifier's error goes straight into the
// logits, and llama.cpp too keeps its output tensor at higher precision
// than q4_0. Norm scales and biases are tiny and sensitive, so they are
// never converted. A policy never widens a weight: a weight stored in fewer
// bits than the policy's type (a q4_0 weight under q8_0, anything under
// f32) stays as stored, because re-encoding costs memory and, for
// requantization, accuracy; f32 therefore changes nothing. A row (last
// dimension) that is not a multiple of 32 elements cannot hold whole
// q8_0/q4_0 blocks, so such a weight stays as stored too, and the report
// names it.
type precisionPolicy struct{ matrix, table ir.Elem }

var precisionPolicies = map[string]precisionPolicy{
	"f32":  {ir.F32, ir.F32},
	"f16":  {ir.F16, ir.F16},
	"bf16": {ir.BF16, ir.BF16},
	"q8_0": {ir.Q8_0, ir.Q8_0},
	"q4_0": {ir.Q4_0, ir.Q8_0},
}

// elemBits is the storage per element, scales included (q8_0: 8 bits and
// a 32-bit scale per 32 elements), which orders the types for "never
// widen".
func elemBits(e ir.Elem) float64 {
	switch e {
	case ir.F32:
		return 32
	case ir.F16, ir.BF16:
		return 16
	case ir.Q8_0:
		return 9
	case ir.Q4_0:
		return 5
	}
	return 0
}

// MeasureTokens is how many positions precision measures its accuracy
// over, and MaxMeasureParams the largest model (in weight elements) it
// measures: the interpreter runs the model twice per position.
const (
	MeasureTokens    = 64
	MaxMeasureParams = 100_000_000
)

// MeasureStart is the token the precision pass starts its measured text
// with: BOS in Llama-family vocabularies (llama2.c, TinyStories, Llama 2).
const MeasureStart = 1

// precision applies the --quant policy (see precisionPolicy) by changing
// the declared types of the weights; the data is converted when it is read
// (tensor.Convert: the interpreter does it on load). With the weights at
// hand (Context.Weights) it measures what the policy costs: the module
// before and after run side by side on the interpreter over MeasureTokens
// positions of a fixed text — token MeasureStart, then the unchanged
// model's own greedy continuation, teacher-forced into both — and the
// report gives the top-1 agreement of the next-token choices and the mean
// KL divergence KL(p_before || p_after) of the next-token distributions.
func precision(m *ir.Module, c *Context) error {
	pol, ok := precisionPolicies[c.Quant]
	if !ok {
		return fmt.Errorf("unknown precision policy %q", c.Quant)
	}
	before := m.Clone()
	kinds := weightKinds(m)
	sizes := m.Sizes()
	var changed, partial []string
	var bytesBefore, bytesAfter int64
	for _, w := range m.Weights {
		b0, _ := w.Type.Bytes(sizes)
		bytesBefore += b0
		to := w.Type.Elem
		switch kinds[w.Name] {
		case KindMatrix:
			to = pol.matrix
		case KindTable:
			to = pol.table
		}
		if to != w.Type.Elem && elemBits(to) <= elemBits(w.Type.Elem) {
			if to.Quantized() && !wholeBlocks(w.Type, sizes) {
				partial = append(partial, fmt.Sprintf("@%s (%s)", w.Name, w.Type))
			} else {
				c.Logf("@%s : %s -> %s", w.Name, w.Type, to)
				w.Type.Elem = to
				changed = append(changed, w.Name)
			}
		}
		b1, _ := w.Type.Bytes(sizes)
		bytesAfter += b1
	}
	c.Report("weights_converted", float64(len(changed)), "weights", "--quant=%s: %d of %d weights converted",
		c.Quant, len(changed), len(m.Weights))
	c.Report("weight_bytes", float64(bytesAfter), "bytes", "weights take %s (%.1f%% of %s)", byteSize(bytesAfter), 100*float64(bytesAfter)/math.Max(1, float64(bytesBefore)), byteSize(bytesBefore))
	if len(partial) > 0 {
		c.Report("weights_kept_partial_blocks", float64(len(partial)), "weights",
			"kept as stored, rows not a multiple of %d elements: %s", tensor.BlockSize, strings.Join(partial, ", "))
	}
	if c.Weights == nil || len(changed) == 0 {
		return nil
	}
	if n := weightElements(m); n > MaxMeasureParams {
		c.Report("accuracy_not_measured", float64(n), "params", "accuracy not measured: %d weight elements is more than the %d the interpreter measures", n, MaxMeasureParams)
		return nil
	}
	acc, err := MeasureAccuracy(c.Ctx, before, m, c.Weights, []int{MeasureStart}, MeasureTokens)
	if err != nil {
		return fmt.Errorf("measuring the accuracy of --quant=%s: %w", c.Quant, err)
	}
	c.Report("top1_agreement", acc.Top1, "ratio", "--quant=%s: top-1 agreement %.2f%% with the unconverted model over %d positions", c.Quant, 100*acc.Top1, acc.Positions)
	c.Report("kl_divergence", acc.KL, "nats", "--quant=%s: mean KL divergence %.3g nats (max %.3g) over %d positions", c.Quant, acc.KL, acc.MaxKL, acc.Positions)
	return nil
}

// weightKinds classifies every weight the module's instructions read.
// A weight read both as a matrix and as a table (tied embeddings) is a
// table; a norm read elsewhere as a matrix (never seen in practice) is
// left alone.
func weightKinds(m *ir.Module) map[string]WeightKind {
	kinds := map[string]WeightKind{}
	set := func(name string, k WeightKind) {
		if m.Weight(name) == nil {
			return // a state
		}
		if old := kinds[name]; old == KindNorm || old == KindTable && k == KindMatrix {
			return
		}
		kinds[name] = k
	}
	for _, f := range m.Funcs {
		for _, in := range f.Body {
			_, roles, err := in.Roles()
			if err != nil {
				continue
			}
			for i, role := range roles {
				switch {
				case in.Op == ir.OpEmbed && role == "table":
					set(in.Refs[i], KindTable)
				case in.Op == ir.OpRMSNorm || role == "norm" || isBiasRole(role):
					set(in.Refs[i], KindNorm)
				case isMatrixRole(role):
					set(in.Refs[i], KindMatrix)
				}
			}
		}
		for _, name := range classifiers(f) {
			set(name, KindTable)
		}
	}
	return kinds
}

// classifiers returns the weight matrices that compute f's results: the
// "w" of the matmul (plain or fused) each result comes from, looking
// through slices and reshapes.
func classifiers(f *ir.Func) []string {
	var names []string
	for _, r := range f.Results {
		v := r
		for v != nil && v.Def != nil && (v.Def.Op == ir.OpSlice || v.Def.Op == ir.OpReshape) {
			v = v.Def.Args[0]
		}
		if v == nil || v.Def == nil {
			continue
		}
		_, roles, err := v.Def.Roles()
		if err != nil {
			continue
		}
		for i, role := range roles {
			if role == "w" && v.Def.Op != ir.OpRMSNorm {
				names = append(names, v.Def.Refs[i])
			}
		}
	}
	return names
}

// wholeBlocks reports whether t's rows (its last dimension) are whole
// quantization blocks.
func wholeBlocks(t ir.Type, sizes ir.Sizes) bool {
	shape, err := t.ShapeIn(sizes)
	return err == nil && len(shape) > 0 && shape[len(shape)-1]%tensor.BlockSize == 0
}

// weightElements counts the elements of every declared weight.
func weightElements(m *ir.Module) int64 {
	var n int64
	for _, w := range m.Weights {
		e, err := w.Type.Elements(m.Sizes())
		if err == nil {
			n += e
		}
	}
	return n
}

// Accuracy is how far a converted model's next-token distributions are
// from the reference's over the same text.
type Accuracy struct {
	Positions int     // positions compared
	Top1      float64 // fraction of positions whose most likely next token is the same
	KL        float64 // mean over positions of KL(p_ref || p_other), nats
	MaxKL     float64 // the largest of them
}

// MeasureAccuracy runs ref and other (two versions of one model, with
// prefill and decode entry points) on the interpreter over the same
// positions 0..positions-1: the token at position i is prompt[i] while the
// prompt lasts and after that the reference's most likely next token
// (teacher forcing: both models always see the same text). Position 0 is a
// one-token prefill, every later one a decode step, as in generation. Each
// module's weights are read through weights and converted to its declared
// types by the interpreter. positions is capped at the module's ctx.
func MeasureAccuracy(ctx context.Context, ref, other *ir.Module, weights func(string) (*tensor.Tensor, error), prompt []int, positions int) (Accuracy, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(prompt) == 0 {
		return Accuracy{}, fmt.Errorf("no start token")
	}
	if n, ok := ref.DimValue("ctx"); ok {
		positions = min(positions, n)
	}
	ipRef, err := interp.New(ref, weights)
	if err != nil {
		return Accuracy{}, err
	}
	ipOther, err := interp.New(other, weights)
	if err != nil {
		return Accuracy{}, err
	}
	var acc Accuracy
	tok := prompt[0]
	for pos := 0; pos < positions; pos++ {
		if err := ctx.Err(); err != nil {
			return Accuracy{}, err
		}
		p, err := nextLogits(ipRef, tok, pos)
		if err != nil {
			return Accuracy{}, err
		}
		q, err := nextLogits(ipOther, tok, pos)
		if err != nil {
			return Accuracy{}, err
		}
		if len(p) != len(q) {
			return Accuracy{}, fmt.Errorf("the models' vocabularies differ (%d and %d logits)", len(p), len(q))
		}
		best := argmaxFirst(p)
		if best == argmaxFirst(q) {
			acc.Top1++
		}
		kl := klDivergence(p, q)
		acc.KL += kl
		acc.MaxKL = max(acc.MaxKL, kl)
		acc.Positions++
		if pos+1 < len(prompt) {
			tok = prompt[pos+1]
		} else {
			tok = best
		}
	}
	if acc.Positions > 0 {
		acc.Top1 /= float64(acc.Positions)
		acc.KL /= float64(acc.Positions)
	}
	return acc, nil
}

// nextLogits feeds token tok at position pos (prefill at 0, decode after)
// and returns the logits of the last row.
func nextLogits(ip *interp.Interp, tok, pos int) ([]float32, error) {
	fn := "decode"
	if pos == 0 {
		fn = "prefill"
	}
	out, err := ip.Call(fn, interp.Tokens(tok), interp.Scalar(pos))
	if err != nil {
		return nil, err
	}
	if len(out) != 1 || len(out[0].Shape) == 0 {
		return nil, fmt.Errorf("@%s returned %d values; want one logits matrix", fn, len(out))
	}
	v := out[0].Shape[len(out[0].Shape)-1]
	row := out[0].F32[len(out[0].F32)-v:]
	return row, nil
}

// argmaxFirst is the index of the largest value, the first on ties.
func argmaxFirst(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// klDivergence is KL(softmax(p) || softmax(q)) in nats, computed in
// float64 from log-softmaxes so tiny probabilities do not underflow.
func klDivergence(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var kl float64
	for i := range lp {
		kl += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return max(kl, 0) // rounding can leave a tiny negative for equal inputs
}

// logSoftmax returns log(softmax(x)) in float64.
func logSoftmax(x []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(sum)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - lse
	}
	return out
}

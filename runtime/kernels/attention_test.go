package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveAttend is attention from its definition in float64: softmax of
// q.k/sqrt(d) over positions, then the weighted sum of values.
func naiveAttend(q []float32, keys, values [][]float32) []float64 {
	w := make([]float64, len(keys))
	maxv := math.Inf(-1)
	for t, k := range keys {
		for i := range q {
			w[t] += float64(q[i]) * float64(k[i])
		}
		w[t] /= math.Sqrt(float64(len(q)))
		maxv = max(maxv, w[t])
	}
	var sum float64
	for t := range w {
		w[t] = math.Exp(w[t] - maxv)
		sum += w[t]
	}
	out := make([]float64, len(q))
	for t, v := range values {
		for i := range out {
			out[i] += w[t] / sum * float64(v[i])
		}
	}
	return out
}

// TestAttentionMatchesNaive runs grouped-query attention over a cache and
// compares every head with the float64 definition, reading the KV head
// each query head maps to.
func TestAttentionMatchesNaive(t *testing.T) {
	const heads, kvHeads, hd, npos, ctx = 6, 2, 16, 9, 12
	r := rand.New(rand.NewPCG(5, 6))
	kvDim := kvHeads * hd
	keys, values := randVals(r, ctx*kvDim, 1), randVals(r, ctx*kvDim, 1)
	q := randVals(r, heads*hd, 1)
	out := make([]float32, heads*hd)
	scores := make([]float32, ctx)
	Attention(out, q, keys, values, heads, kvHeads, hd, npos, scores)
	for h := range heads {
		kv := h / (heads / kvHeads)
		var ks, vs [][]float32
		for p := range npos {
			ks = append(ks, keys[p*kvDim+kv*hd:p*kvDim+kv*hd+hd])
			vs = append(vs, values[p*kvDim+kv*hd:p*kvDim+kv*hd+hd])
		}
		want := naiveAttend(q[h*hd:(h+1)*hd], ks, vs)
		for i, w := range want {
			if got := out[h*hd+i]; math.Abs(float64(got)-w) > 1e-5 {
				t.Fatalf("head %d dim %d: got %v, want %v", h, i, got, w)
			}
		}
	}
	var sum float32
	for _, s := range scores[:npos] {
		sum += s
	}
	if math.Abs(float64(sum)-1) > 1e-5 {
		t.Errorf("last head's weights sum to %v", sum)
	}
}

// TestAttendOnePosition checks the degenerate case: with one position the
// weight is exactly 1 and the output is that position's value row.
func TestAttendOnePosition(t *testing.T) {
	q := []float32{0.5, -1, 2, 3}
	keys := []float32{9, 9, 1, 2, 3, 4}
	values := []float32{9, 9, -1, 0.25, 7, 8}
	out := make([]float32, 4)
	Attend(out, q, keys, values, 6, 2, 1, make([]float32, 1))
	for i, want := range values[2:] {
		if out[i] != want {
			t.Fatalf("out %v, want %v", out, values[2:])
		}
	}
}

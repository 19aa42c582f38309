package interp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/kernels"
)

// attentionModule is one attention of 8 query heads over 4 KV heads of 8
// on q, k, v parameters, with a 16-position cache.
func attentionModule(t *testing.T) *ir.Module {
	r := rand.New(rand.NewPCG(0, 0))
	ps := []param{seqParam(r, 1, 64), seqParam(r, 1, 32), seqParam(r, 1, 32), posParam(0)}
	return oneFunc(t, nil, map[string]int{"kc": 32, "vc": 32}, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value {
		return []*ir.Value{b.Attention(p[0], p[1], p[2], p[3], "kc", "vc", 8, 4, 8)}
	})
}

// TestAttentionPrefillEqualsDecode checks causality and the cache: one
// call over n rows, n calls of one row, and two chunks all give the same
// bits, and those of kernels.Attention over a cache filled by hand.
func TestAttentionPrefillEqualsDecode(t *testing.T) {
	m := attentionModule(t)
	ip := newInterp(t, m, nil)
	r := rand.New(rand.NewPCG(10, 10))
	const n = 9
	q, k, v := randVals(r, n*64, 1), randVals(r, n*32, 1), randVals(r, n*32, 1)
	rowsAt := func(lo, hi int) []interp.Value {
		return []interp.Value{interp.F32Value(q[lo*64:hi*64], hi-lo, 64), interp.F32Value(k[lo*32:hi*32], hi-lo, 32),
			interp.F32Value(v[lo*32:hi*32], hi-lo, 32), interp.Scalar(lo)}
	}
	whole := call(t, ip, "f", rowsAt(0, n)...)

	kc, vc := make([]float32, 16*32), make([]float32, 16*32)
	copy(kc, k)
	copy(vc, v)
	want := make([]float32, n*64)
	scores := make([]float32, 16)
	for i := range n {
		kernels.Attention(want[i*64:(i+1)*64], q[i*64:(i+1)*64], kc, vc, 8, 4, 8, i+1, scores)
	}
	wantBits(t, "prefill vs kernels", whole, want)

	ip.Reset()
	for i := range n {
		wantBits(t, fmt.Sprintf("decode row %d", i), call(t, ip, "f", rowsAt(i, i+1)...), want[i*64:(i+1)*64])
	}
	ip.Reset()
	call(t, ip, "f", rowsAt(0, 4)...)
	wantBits(t, "second chunk", call(t, ip, "f", rowsAt(4, n)...), want[4*64:])
}

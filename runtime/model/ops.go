package model

import "math"

// The elementwise operations of the forward pass, written to follow
// llama2.c run.c's float32 arithmetic step by step (same operations, same
// order, a rounding to float32 after each), so greedy decoding reproduces its
// output bit for bit.
//
// Go has no float32 exp/pow/sqrt/cos/sin: they are computed in float64 and
// rounded to float32: the correctly rounded float32 result but for rare
// double-rounding cases.
// glibc's expf/sinf/cosf are not always correctly rounded (measured: about
// 1% of the rope angles of stories260K for sinf/cosf, 4 in 100000 random
// arguments for expf), so logits leave run.c's in the last bits from
// position 2 on (at most 1.7e-5 over 256 positions of stories260K; greedy
// ids identical). With glibc's functions swapped in, every logit of those
// 256 positions is bit-identical to run.c, which confirms the arithmetic
// order. Products that feed an addition are wrapped in float32(...) to
// stop Go from fusing them into an FMA.

// rmsnorm writes w * (x / rms(x)) to out; out may alias x.
func rmsnorm(out, x, w []float32, eps float32) {
	var ss float32
	for _, v := range x {
		ss += float32(v * v)
	}
	ss /= float32(len(x))
	ss += eps
	ss = 1 / float32(math.Sqrt(float64(ss)))
	for j := range x {
		out[j] = w[j] * (ss * x[j])
	}
}

// softmax replaces x by exp(x - max) / sum, summing in float32 in order.
func softmax(x []float32) {
	maxv := x[0]
	for _, v := range x[1:] {
		if v > maxv {
			maxv = v
		}
	}
	var sum float32
	for i, v := range x {
		e := expf(v - maxv)
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

// swiglu writes silu(gate) * up into gate, silu(v) = v * (1/(1+exp(-v))).
func swiglu(gate, up []float32) {
	for i, v := range gate {
		v *= 1 / (1 + expf(-v))
		v *= up[i]
		gate[i] = v
	}
}

// addInto adds b into a elementwise.
func addInto(a, b []float32) {
	for i := range a {
		a[i] += b[i]
	}
}

func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

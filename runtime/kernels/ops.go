package kernels

import "math"

// RMSNorm writes w * (x / rms(x)) to out (all of len(x)); out may alias x.
// The mean of squares is a float32 sum in order, divided by len(x), plus
// eps, then 1/sqrt rounded to float32, as run.c's rmsnorm.
func RMSNorm(out, x, w []float32, eps float32) {
	var ss float32
	for _, v := range x {
		ss += float32(v * v)
	}
	ss /= float32(len(x))
	ss += eps
	ss = 1 / float32(math.Sqrt(float64(ss)))
	out, w = out[:len(x)], w[:len(x)]
	for j := range x {
		out[j] = w[j] * (ss * x[j])
	}
}

// Softmax replaces x (at least one element) by exp(x - max) / sum, summing
// in float32 in order.
func Softmax(x []float32) {
	maxv := x[0]
	for _, v := range x[1:] {
		if v > maxv {
			maxv = v
		}
	}
	var sum float32
	for i, v := range x {
		e := Expf(v - maxv)
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

// SiLUMul writes silu(gate) * up into gate (SwiGLU's gating). It is
// exactly SiLU(gate) followed by Mul(gate, up): the same two roundings.
func SiLUMul(gate, up []float32) {
	up = up[:len(gate)]
	for i, v := range gate {
		v *= 1 / (1 + Expf(-v))
		v *= up[i]
		gate[i] = v
	}
}

// SiLU replaces each v of x by silu(v) = v * (1/(1+exp(-v))), rounded to
// float32 as SiLUMul's first step.
func SiLU(x []float32) {
	for i, v := range x {
		x[i] = v * (1 / (1 + Expf(-v)))
	}
}

// Mul multiplies dst by src elementwise.
func Mul(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] *= src[i]
	}
}

// Add adds src into dst elementwise (residuals and biases).
func Add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// Expf is exp in float32: float64 exp rounded to float32 (see the package
// comment on how this relates to C's expf).
func Expf(x float32) float32 { return float32(math.Exp(float64(x))) }

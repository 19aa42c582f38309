package interp

import (
	"math"

	"github.com/omex-dev/omex/runtime/kernels"
)

// The arithmetic of the ops on flat row-major buffers. Unfused and fused
// instructions call the same functions, which is what makes a fused op
// bit-identical to its expansion.

// matmul computes out [rows, N] = x [rows, K] · wᵀ and adds bias (when not
// nil) to each output row: MatMul's row i is bit for bit a MatVec, then
// the bias is a float32 add per element, as runtime/model does.
func matmul(out, x []float32, rows int, w *kernels.Matrix, bias []float32) {
	w.MatMul(out, x, rows)
	if bias == nil {
		return
	}
	n := w.Rows()
	for i := 0; i < rows; i++ {
		kernels.Add(out[i*n:(i+1)*n], bias)
	}
}

// rmsnormRows normalizes each row of len(w) values of x into out.
func rmsnormRows(out, x, w []float32, eps float32) {
	d := len(w)
	if d == 0 {
		return
	}
	for i := 0; i+d <= len(x); i += d {
		kernels.RMSNorm(out[i:i+d], x[i:i+d], w, eps)
	}
}

// gelu is the exact (erf) GELU as docs/IR.md defines it: computed in
// float64 from the float32 input and rounded to float32 once.
func gelu(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
}

// elementwise writes a+b (add) or a*b into out, where a and b have out's
// length or one of them is a scalar (one element).
func elementwise(out, a, b []float32, add bool) {
	switch {
	case len(a) == len(out) && len(b) == len(out):
		copy(out, a)
		if add {
			kernels.Add(out, b)
		} else {
			kernels.Mul(out, b)
		}
	case len(b) == 1 && len(a) == len(out):
		s := b[0]
		for i, v := range a {
			if add {
				out[i] = v + s
			} else {
				out[i] = v * s
			}
		}
	default: // a is the scalar
		s := a[0]
		for i, v := range b {
			if add {
				out[i] = s + v
			} else {
				out[i] = s * v
			}
		}
	}
}

// sliceCopy copies elements s..e-1 of one axis of x (of the given shape)
// into out.
func sliceCopy[T any](out, x []T, shape []int, axis, s, e int) {
	outer, inner := 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	n := shape[axis]
	w := (e - s) * inner
	for o := 0; o < outer; o++ {
		copy(out[o*w:(o+1)*w], x[(o*n+s)*inner:(o*n+e)*inner])
	}
}

// transposeCopy writes x (of the given shape) with its axes permuted into
// out: out's axis i is x's axis perm[i].
func transposeCopy[T any](out, x []T, shape, perm []int) {
	rank := len(shape)
	if len(out) == 0 {
		return
	}
	// stride[i] is the step in x of out's axis i.
	xStride := make([]int, rank)
	st := 1
	for a := rank - 1; a >= 0; a-- {
		xStride[a] = st
		st *= shape[a]
	}
	stride := make([]int, rank)
	dims := make([]int, rank)
	for i, a := range perm {
		stride[i] = xStride[a]
		dims[i] = shape[a]
	}
	idx := make([]int, rank)
	off := 0
	for k := range out {
		out[k] = x[off]
		// Advance the out index like an odometer, tracking x's offset.
		for i := rank - 1; i >= 0; i-- {
			idx[i]++
			off += stride[i]
			if idx[i] < dims[i] {
				break
			}
			off -= stride[i] * dims[i]
			idx[i] = 0
		}
	}
}

// argmax returns the index of the largest value (the first of equals; a NaN
// is never larger than anything, so it wins only at index 0).
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

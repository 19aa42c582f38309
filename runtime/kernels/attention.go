package kernels

import "math"

// Attend computes one query head's attention over cached positions
// 0..npos-1 (npos >= 1), exactly as run.c's loop: score t is the float32
// dot of q with key row t, in order, divided by sqrt(headDim); the scores
// go through Softmax; out (headDim = len(q) values) is the score-weighted
// float32 sum of the value rows, accumulated position by position.
//
// keys and values are caches of rows of stride floats; this head's key and
// value for position t are the headDim floats at t*stride+offset (for
// grouped-query attention, offset selects the shared KV head). scores is
// scratch of at least npos floats; on return scores[:npos] holds the
// attention weights.
func Attend(out, q, keys, values []float32, stride, offset, npos int, scores []float32) {
	attend(Softmax, out, q, keys, values, stride, offset, npos, scores)
}

func attend(softmax func([]float32), out, q, keys, values []float32, stride, offset, npos int, scores []float32) {
	hd := len(q)
	// llama2.c divides by sqrtf(head_size); sqrt is correctly rounded in
	// both, so float64 sqrt rounded to float32 is the same number.
	scale := float32(math.Sqrt(float64(hd)))
	scores = scores[:npos]
	for t := range scores {
		kt := keys[t*stride+offset : t*stride+offset+hd]
		var s float32
		for i, qi := range q {
			s += float32(qi * kt[i])
		}
		scores[t] = s / scale
	}
	softmax(scores)
	out = out[:hd]
	clear(out)
	for t, a := range scores {
		vt := values[t*stride+offset : t*stride+offset+hd]
		for i := range out {
			out[i] += float32(a * vt[i])
		}
	}
}

// Attention computes one query row's multi-head attention over cached
// positions 0..npos-1: q and out hold heads*headDim values, keys and values
// rows of kvHeads*headDim, and query head h reads KV head
// h/(heads/kvHeads) (grouped-query attention; heads must be a multiple of
// kvHeads). Each head is one Attend; scores is scratch of npos floats.
func Attention(out, q, keys, values []float32, heads, kvHeads, headDim, npos int, scores []float32) {
	AttentionWith(Softmax, out, q, keys, values, heads, kvHeads, headDim, npos, scores)
}

// AttentionWith is Attention with softmax in place of Softmax: generated
// code passes its vector softmax, which gives Softmax's bits.
func AttentionWith(softmax func([]float32), out, q, keys, values []float32, heads, kvHeads, headDim, npos int, scores []float32) {
	kvDim := kvHeads * headDim
	kvMul := heads / kvHeads
	for h := range heads {
		lo, hi := h*headDim, (h+1)*headDim
		attend(softmax, out[lo:hi], q[lo:hi], keys, values, kvDim, (h/kvMul)*headDim, npos, scores)
	}
}

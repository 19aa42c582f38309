package model

import "math"

// ropeTable fills cos and sin (headDim/2 entries each) for position pos:
// pair j (dimensions 2j and 2j+1 interleaved, or j and j+headDim/2
// half-split) turns by pos * theta^(-2j/headDim). The steps are llama2.c's
// float32 ones: e = (2j)/headDim; freq = 1/powf(theta, e); val = pos*freq;
// cosf(val), sinf(val) (see ops.go on float32 math). Hugging Face's inv_freq = 1/theta^(arange(0,d,2)/d)
// in float32 is the same sequence of roundings, so one table serves both.
func ropeTable(cos, sin []float32, pos, headDim int, theta float32) {
	for j := range cos {
		e := float32(2*j) / float32(headDim)
		freq := 1 / float32(math.Pow(float64(theta), float64(e)))
		val := float32(pos) * freq
		cos[j] = float32(math.Cos(float64(val)))
		sin[j] = float32(math.Sin(float64(val)))
	}
}

// ropeInterleaved rotates each head of v (heads of headDim values) in
// place, pairing dimensions (2j, 2j+1) as llama2.c and GGUF do.
func ropeInterleaved(v, cos, sin []float32, headDim int) {
	for h := 0; h+headDim <= len(v); h += headDim {
		for j := range cos {
			i := h + 2*j
			v0, v1 := v[i], v[i+1]
			v[i] = float32(v0*cos[j]) - float32(v1*sin[j])
			v[i+1] = float32(v0*sin[j]) + float32(v1*cos[j])
		}
	}
}

// ropeHalfSplit rotates each head of v in place, pairing dimensions
// (j, j+headDim/2) as Hugging Face's x*cos + rotate_half(x)*sin does.
func ropeHalfSplit(v, cos, sin []float32, headDim int) {
	half := headDim / 2
	for h := 0; h+headDim <= len(v); h += headDim {
		for j := range cos {
			i0, i1 := h+j, h+j+half
			v0, v1 := v[i0], v[i1]
			v[i0] = float32(v0*cos[j]) - float32(v1*sin[j])
			v[i1] = float32(v1*cos[j]) + float32(v0*sin[j])
		}
	}
}

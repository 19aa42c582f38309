package kernels

import "math"

// The rotary layouts, spelled as model.RopeLayout and the IR's rope
// attribute spell them.
const (
	// LayoutInterleaved rotates pairs (2j, 2j+1): llama2.c, Meta, GGUF.
	LayoutInterleaved = "interleaved"
	// LayoutHalfSplit rotates pairs (j, j+headDim/2): Hugging Face, GPT-NeoX.
	LayoutHalfSplit = "half_split"
)

// RopeTable fills cos and sin (headDim/2 entries each) for position pos:
// pair j (dimensions 2j and 2j+1 interleaved, or j and j+headDim/2
// half-split) turns by pos * theta^(-2j/headDim). The steps are llama2.c's
// float32 ones: e = (2j)/headDim; freq = 1/powf(theta, e); val = pos*freq;
// cosf(val), sinf(val). Hugging Face's inv_freq = 1/theta^(arange(0,d,2)/d)
// in float32 is the same sequence of roundings, so one table serves both.
func RopeTable(cos, sin []float32, pos, headDim int, theta float32) {
	sin = sin[:len(cos)]
	for j := range cos {
		e := float32(2*j) / float32(headDim)
		freq := 1 / float32(math.Pow(float64(theta), float64(e)))
		val := float32(pos) * freq
		cos[j] = float32(math.Cos(float64(val)))
		sin[j] = float32(math.Sin(float64(val)))
	}
}

// RopeInterleaved rotates each head of v (consecutive heads of headDim
// values) in place by a RopeTable, pairing dimensions (2j, 2j+1).
func RopeInterleaved(v, cos, sin []float32, headDim int) {
	for h := 0; h+headDim <= len(v); h += headDim {
		for j := range cos {
			i := h + 2*j
			v0, v1 := v[i], v[i+1]
			v[i] = float32(v0*cos[j]) - float32(v1*sin[j])
			v[i+1] = float32(v0*sin[j]) + float32(v1*cos[j])
		}
	}
}

// RopeHalfSplit rotates each head of v in place by a RopeTable,
// pairing dimensions (j, j+headDim/2) as Hugging Face's
// x*cos + rotate_half(x)*sin does.
func RopeHalfSplit(v, cos, sin []float32, headDim int) {
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

// Rope rotates each head of v in place by a RopeTable in the given layout
// (LayoutInterleaved or LayoutHalfSplit); it reports false, changing nothing,
// for any other layout.
func Rope(v, cos, sin []float32, headDim int, layout string) bool {
	switch layout {
	case LayoutInterleaved:
		RopeInterleaved(v, cos, sin, headDim)
	case LayoutHalfSplit:
		RopeHalfSplit(v, cos, sin, headDim)
	default:
		return false
	}
	return true
}

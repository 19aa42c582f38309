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
		cos[j], sin[j] = ropeTurn(pos, ropeFreq(j, headDim, theta))
	}
}

// ropeFreq is pair j's frequency, theta^(-2j/headDim) in llama2.c's
// float32 steps.
func ropeFreq(j, headDim int, theta float32) float32 {
	e := float32(2*j) / float32(headDim)
	return 1 / float32(math.Pow(float64(theta), float64(e)))
}

// ropeTurn is the cosine and sine of position pos turned at freq.
func ropeTurn(pos int, freq float32) (float32, float32) {
	val := float32(pos) * freq
	return float32(math.Cos(float64(val))), float32(math.Sin(float64(val)))
}

// RopeFreqs fills freq (headDim/2 entries) with RopeTable's per-pair
// frequencies, which do not depend on the position: code that builds a
// table per token computes them once.
func RopeFreqs(freq []float32, headDim int, theta float32) {
	for j := range freq {
		freq[j] = ropeFreq(j, headDim, theta)
	}
}

// RopeTableFrom is RopeTable with the frequencies of RopeFreqs: the same
// cos and sin, bit for bit, without a power per pair.
func RopeTableFrom(cos, sin, freq []float32, pos int) {
	sin, freq = sin[:len(cos)], freq[:len(cos)]
	for j, f := range freq {
		cos[j], sin[j] = ropeTurn(pos, f)
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

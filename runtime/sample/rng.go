package sample

// rng is xorshift64*, the generator of llama2.c's run.c: a few shifts and a
// multiply on a uint64, so a seed gives the same stream on every platform
// and Go version (unlike math/rand's unspecified algorithms). With the same
// nonzero seed it reproduces run.c's -s coins exactly.
type rng struct{ state uint64 }

// zeroSeedState replaces seed 0, a fixed point of xorshift (it would
// return 0 forever).
const zeroSeedState = 0x9E3779B97F4A7C15

func newRNG(seed uint64) rng {
	if seed == 0 {
		seed = zeroSeedState
	}
	return rng{state: seed}
}

// u32 advances the state and returns its high 32 bits after the multiply.
func (r *rng) u32() uint32 {
	r.state ^= r.state >> 12
	r.state ^= r.state << 25
	r.state ^= r.state >> 27
	return uint32((r.state * 0x2545F4914F6CDD1D) >> 32)
}

// f32 returns a uniform float32 in [0, 1) with 24 random bits.
func (r *rng) f32() float32 { return float32(r.u32()>>8) / 16777216.0 }

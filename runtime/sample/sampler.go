package sample

import (
	"math"
	"slices"
)

// Sampler draws tokens with fixed Params and its own random stream. It
// reuses its buffers, so after the first call Sample does not allocate
// (unless the vocabulary grows). Not safe for concurrent use.
type Sampler struct {
	p     Params
	rng   rng
	cands []cand
	seen  []uint32 // per token: the call stamp at which its penalty was applied
	stamp uint32
}

// cand is a candidate token with its logit, later its probability.
type cand struct {
	id int32
	v  float32
}

// New returns a sampler for p, or an InputError naming the flag at fault.
func New(p Params) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Sampler{p: p, rng: newRNG(p.Seed)}, nil
}

// Sample returns the next token id given the logits (not modified) and the
// ids generated or fed so far (used only by the repetition penalty; ids
// outside the vocabulary are ignored). It returns -1 when logits is empty.
//
// The steps, in order: repetition penalty (positive logits divided,
// negative multiplied, once per distinct id: CTRL/llama.cpp); temperature 0
// returns the argmax (lowest id on ties); logits divided by temperature;
// top-k; softmax; min-p; top-p; renormalise; draw. Ties in every ordering
// break towards the lower id, so results do not depend on the sort. With
// only temperature (and top-p) set the steps are llama2.c run.c's (same
// generator, float32 softmax, cdf walk), so a seed should draw what run.c
// -s draws; that has not been checked against a run.c binary.
func (s *Sampler) Sample(logits []float32, history []int) int {
	n := len(logits)
	if n == 0 {
		return -1
	}
	c := s.load(logits)
	s.penalize(c, history)
	if s.p.Temperature == 0 {
		return int(argmax(c).id)
	}
	for i := range c {
		c[i].v /= s.p.Temperature
	}
	sorted, filtered := false, false
	if k := s.p.TopK; k > 0 && k < len(c) {
		c = topK(c, k)
		sorted, filtered = true, true
	}

	// Softmax in float32 in candidate order, as llama2.c does. An infinite
	// or all -inf maximum has no distribution: fall back to the argmax.
	best := argmax(c)
	if math.IsInf(float64(best.v), 0) {
		return int(best.id)
	}
	var sum float32
	for i := range c {
		c[i].v = float32(math.Exp(float64(c[i].v - best.v)))
		sum += c[i].v
	}
	for i := range c {
		c[i].v /= sum
	}

	// mass is what the kept candidates' probabilities add up to; treating
	// it as exactly 1 until something is dropped keeps llama2.c's numbers.
	mass := float32(1)
	if s.p.MinP > 0 {
		floor := s.p.MinP * argmax(c).v
		kept := c[:0]
		for _, x := range c {
			if x.v >= floor {
				kept = append(kept, x)
			}
		}
		if len(kept) < len(c) {
			c, filtered = kept, true
			mass = 0
			for _, x := range c {
				mass += x.v
			}
		}
	}
	if s.p.TopP < 1 {
		// llama2.c's sample_topp always draws over the prefix's own mass.
		c, filtered = s.topP(c, mass, sorted), true
	}

	coin := s.rng.f32()
	r := coin
	if filtered {
		var total float32
		for _, x := range c {
			total += x.v
		}
		r = coin * total
	}
	var cdf float32
	for _, x := range c {
		cdf += x.v
		if r < cdf {
			return int(x.id)
		}
	}
	return int(c[len(c)-1].id) // rounding left r at or past the last cdf
}

// load copies logits into the candidate buffer in id order, NaN as -inf.
func (s *Sampler) load(logits []float32) []cand {
	if cap(s.cands) < len(logits) {
		s.cands = make([]cand, len(logits))
	}
	c := s.cands[:len(logits)]
	for i, v := range logits {
		if v != v {
			v = float32(math.Inf(-1))
		}
		c[i] = cand{int32(i), v}
	}
	return c
}

// penalize applies the repetition penalty to each distinct history id.
// c is still in id order, so c[id] is token id.
func (s *Sampler) penalize(c []cand, history []int) {
	pen := s.p.RepetitionPenalty
	if pen == 1 || len(history) == 0 {
		return
	}
	if len(s.seen) < len(c) {
		s.seen = make([]uint32, len(c))
		s.stamp = 0
	}
	s.stamp++
	if s.stamp == 0 { // wrapped: old stamps could collide
		clear(s.seen)
		s.stamp = 1
	}
	for _, id := range history {
		if id < 0 || id >= len(c) || s.seen[id] == s.stamp {
			continue
		}
		s.seen[id] = s.stamp
		if c[id].v > 0 {
			c[id].v /= pen
		} else {
			c[id].v *= pen
		}
	}
}

// topP keeps the smallest best-first prefix of c whose probability passes
// TopP x mass (the candidate at which the running sum first exceeds it is
// included). Unsorted candidates are first thinned as llama2.c does: a
// token below (1-topP)*mass/(n-1) cannot be in the nucleus, because if any
// token is kept, the dropped ones number at most n-1 and so add up to less
// than the (1-topP)*mass that lies outside it; then the rest are sorted.
func (s *Sampler) topP(c []cand, mass float32, sorted bool) []cand {
	if len(c) <= 1 {
		return c
	}
	if !sorted {
		cutoff := (1 - s.p.TopP) * mass / float32(len(c)-1)
		n := 0
		for _, x := range c {
			if x.v >= cutoff {
				n++
			}
		}
		if n > 0 { // with none kept the bound above does not hold: keep all
			kept := c[:0]
			for _, x := range c {
				if x.v >= cutoff {
					kept = append(kept, x)
				}
			}
			c = kept
		}
		slices.SortFunc(c, byBetter)
	}
	limit := s.p.TopP * mass
	var cum float32
	for i, x := range c {
		cum += x.v
		if cum > limit {
			return c[:i+1]
		}
	}
	return c
}

package sample

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

func mustNew(t *testing.T, p Params) *Sampler {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// logitsOf turns probabilities into logits (their logs).
func logitsOf(probs ...float64) []float32 {
	out := make([]float32, len(probs))
	for i, p := range probs {
		out[i] = float32(math.Log(p))
	}
	return out
}

// counts draws n tokens and tallies them.
func counts(s *Sampler, logits []float32, n int) map[int]int {
	c := map[int]int{}
	for range n {
		c[s.Sample(logits, nil)]++
	}
	return c
}

func TestRNGStream(t *testing.T) {
	// Values from an independent Python implementation of xorshift64*; they
	// pin the stream so a seed means the same thing everywhere.
	r := newRNG(42)
	for i, want := range []uint32{1456360119, 3359763283, 3393612768, 4054632243, 3283045847} {
		if got := r.u32(); got != want {
			t.Fatalf("draw %d of seed 42: got %d, want %d", i, got, want)
		}
	}
	r = newRNG(0)
	for i, want := range []uint32{226735074, 1422150777, 2823156546} {
		if got := r.u32(); got != want {
			t.Fatalf("draw %d of seed 0: got %d, want %d", i, got, want)
		}
	}
}

func TestGreedy(t *testing.T) {
	p := Defaults()
	p.Temperature = 0
	s := mustNew(t, p)
	if got := s.Sample([]float32{0.1, 3, -2, 2.9}, nil); got != 1 {
		t.Errorf("argmax: got %d, want 1", got)
	}
	if got := s.Sample([]float32{1, 5, 0, 5, 5}, nil); got != 1 {
		t.Errorf("ties: got %d, want the lowest id 1", got)
	}
	if got := s.Sample([]float32{float32(math.NaN()), -1, 2, float32(math.NaN())}, nil); got != 2 {
		t.Errorf("NaN logits: got %d, want 2", got)
	}
	if got := s.Sample(nil, nil); got != -1 {
		t.Errorf("empty logits: got %d, want -1", got)
	}
}

func TestTopK1IsGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 300)
	for seed := range uint64(20) {
		for i := range logits {
			logits[i] = float32(r.NormFloat64() * 3)
		}
		logits[17] = logits[200] // a tie that might be the max
		want := argmax(newCands(logits)).id
		p := Defaults()
		p.TopK, p.Seed, p.Temperature = 1, seed, 1.5
		if got := mustNew(t, p).Sample(logits, nil); got != int(want) {
			t.Fatalf("seed %d: top-k 1 gave %d, argmax is %d", seed, got, want)
		}
	}
}

func newCands(logits []float32) []cand {
	c := make([]cand, len(logits))
	for i, v := range logits {
		c[i] = cand{int32(i), v}
	}
	return c
}

func TestTopK(t *testing.T) {
	logits := logitsOf(0.05, 0.4, 0.1, 0.3, 0.15)
	p := Defaults()
	p.TopK = 2
	got := counts(mustNew(t, p), logits, 4000)
	if len(got) != 2 || got[1] == 0 || got[3] == 0 {
		t.Fatalf("top-k 2 drew %v, want only ids 1 and 3", got)
	}
	// Renormalised: 0.4/0.7 of the draws should be id 1.
	if f := float64(got[1]) / 4000; math.Abs(f-0.4/0.7) > 0.03 {
		t.Errorf("id 1 frequency %.3f, want about %.3f", f, 0.4/0.7)
	}
}

func TestTopP(t *testing.T) {
	logits := logitsOf(0.15, 0.5, 0.05, 0.3)
	for _, tc := range []struct {
		topP float32
		want []int
	}{
		{0.4, []int{1}},           // 0.5 > 0.4
		{0.7, []int{1, 3}},        // 0.8 > 0.7
		{0.9, []int{1, 3, 0}},     // 0.95 > 0.9
		{0.99, []int{1, 3, 0, 2}}, // everything
	} {
		p := Defaults()
		p.TopP, p.Seed = tc.topP, 7
		got := counts(mustNew(t, p), logits, 3000)
		if len(got) != len(tc.want) {
			t.Errorf("top-p %v drew %v, want ids %v", tc.topP, got, tc.want)
			continue
		}
		for _, id := range tc.want {
			if got[id] == 0 {
				t.Errorf("top-p %v drew %v, never id %d", tc.topP, got, id)
			}
		}
	}
}

func TestMinP(t *testing.T) {
	logits := logitsOf(0.15, 0.5, 0.05, 0.3)
	for _, tc := range []struct {
		minP float32
		want []int
	}{
		{0.2, []int{0, 1, 3}}, // floor 0.1
		{0.5, []int{1, 3}},    // floor 0.25
		{0.8, []int{1}},       // floor 0.4
	} {
		p := Defaults()
		p.MinP = tc.minP
		got := counts(mustNew(t, p), logits, 3000)
		if len(got) != len(tc.want) {
			t.Errorf("min-p %v drew %v, want ids %v", tc.minP, got, tc.want)
			continue
		}
		for _, id := range tc.want {
			if got[id] == 0 {
				t.Errorf("min-p %v drew %v, never id %d", tc.minP, got, id)
			}
		}
	}
	// min-p then top-p: min-p 0.2 leaves {1: .5, 3: .3, 0: .15} (mass .95);
	// top-p 0.8 of that mass is .76, passed at id 3.
	p := Defaults()
	p.MinP, p.TopP = 0.2, 0.8
	if got := counts(mustNew(t, p), logits, 3000); len(got) != 2 || got[1] == 0 || got[3] == 0 {
		t.Errorf("min-p 0.2 + top-p 0.8 drew %v, want ids 1 and 3", got)
	}
}

func TestFrequencies(t *testing.T) {
	probs := []float64{0.1, 0.6, 0.3}
	got := counts(mustNew(t, Defaults()), logitsOf(probs...), 20000)
	for id, p := range probs {
		if f := float64(got[id]) / 20000; math.Abs(f-p) > 0.02 {
			t.Errorf("id %d drawn with frequency %.3f, want %.2f", id, f, p)
		}
	}
	// Temperature 0.5 squares the odds: 1:36:9 over 46.
	p := Defaults()
	p.Temperature = 0.5
	got = counts(mustNew(t, p), logitsOf(probs...), 20000)
	if f := float64(got[1]) / 20000; math.Abs(f-36.0/46) > 0.02 {
		t.Errorf("temperature 0.5: id 1 frequency %.3f, want %.3f", f, 36.0/46)
	}
}

func TestSeeds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, 100)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	draw := func(seed uint64) []int {
		p := Defaults()
		p.Seed, p.TopP, p.TopK = seed, 0.95, 60
		s := mustNew(t, p)
		out := make([]int, 200)
		for i := range out {
			out[i] = s.Sample(logits, out[:i])
		}
		return out
	}
	a, b, c := draw(5), draw(5), draw(6)
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed gave different sequences")
	}
	if same(a, c) {
		t.Error("seeds 5 and 6 gave the same 200 tokens")
	}
}

func TestRepetitionPenalty(t *testing.T) {
	p := Defaults()
	p.Temperature, p.RepetitionPenalty = 0, 1.5
	s := mustNew(t, p)
	logits := []float32{2, 1.9, -1, -1.05}
	if got := s.Sample(logits, []int{0}); got != 1 {
		t.Errorf("positive logit 2 /1.5 = 1.33 < 1.9: got %d, want 1", got)
	}
	if logits[0] != 2 {
		t.Errorf("Sample changed the caller's logits: %v", logits)
	}
	if got := s.Sample([]float32{-1, -1.2}, []int{0, 99, -3}); got != 1 {
		t.Errorf("negative logit -1 x1.5 = -1.5 < -1.2: got %d, want 1", got)
	}
	// Applied once per distinct id: 2/1.5 = 1.33 still beats 1.2 (twice
	// would give 0.89 and lose).
	if got := s.Sample([]float32{2, 1.2}, []int{0, 0, 0}); got != 0 {
		t.Errorf("repeated history ids penalised more than once: got %d, want 0", got)
	}
	// And the stamp resets between calls: id 0 is not penalised now.
	if got := s.Sample([]float32{2, 1.9}, nil); got != 0 {
		t.Errorf("penalty leaked into a call without history: got %d", got)
	}
}

func TestBadParams(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		mod  func(*Params)
		flag string
	}{
		{func(p *Params) { p.Temperature = -0.1 }, FlagTemperature},
		{func(p *Params) { p.Temperature = nan }, FlagTemperature},
		{func(p *Params) { p.Temperature = float32(math.Inf(1)) }, FlagTemperature},
		{func(p *Params) { p.TopP = 0 }, FlagTopP},
		{func(p *Params) { p.TopP = 1.01 }, FlagTopP},
		{func(p *Params) { p.TopP = nan }, FlagTopP},
		{func(p *Params) { p.MinP = 1 }, FlagMinP},
		{func(p *Params) { p.MinP = -0.01 }, FlagMinP},
		{func(p *Params) { p.TopK = -1 }, FlagTopK},
		{func(p *Params) { p.RepetitionPenalty = 0 }, FlagRepetitionPenalty},
		{func(p *Params) { p.RepetitionPenalty = nan }, FlagRepetitionPenalty},
	} {
		p := Defaults()
		tc.mod(&p)
		_, err := New(p)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Input || e.Flag != tc.flag {
			t.Errorf("%+v: got %v, want an InputError for %s", p, err, tc.flag)
		}
	}
	if _, err := New(Params{}); err == nil {
		t.Error("the zero Params (top-p 0, penalty 0) was accepted")
	}
}

func TestNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := make([]float32, 5000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	history := []int{1, 2, 3, 2, 4000}
	p := Params{Temperature: 0.8, TopP: 0.9, MinP: 0.01, RepetitionPenalty: 1.1, TopK: 40, Seed: 1}
	s := mustNew(t, p)
	s.Sample(logits, history)
	if n := testing.AllocsPerRun(20, func() { s.Sample(logits, history) }); n != 0 {
		t.Errorf("Sample allocates %v times per call", n)
	}
	p.TopK = 0 // the unsorted top-p path
	s = mustNew(t, p)
	s.Sample(logits, history)
	if n := testing.AllocsPerRun(20, func() { s.Sample(logits, history) }); n != 0 {
		t.Errorf("Sample (no top-k) allocates %v times per call", n)
	}
}

func TestTopKMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 50 {
		n := 1 + r.IntN(200)
		k := 1 + r.IntN(n)
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(r.IntN(20)) // many ties
		}
		got := topK(newCands(logits), k)
		all := newCands(logits)
		sortCands(all)
		for i := range got {
			if got[i] != all[i] {
				t.Fatalf("trial %d (n %d, k %d): position %d is %v, want %v", trial, n, k, i, got[i], all[i])
			}
		}
	}
}

// sortCands is a plain insertion sort by byBetter, the reference for topK.
func sortCands(c []cand) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && byBetter(c[j], c[j-1]) < 0; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

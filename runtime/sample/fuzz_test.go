package sample

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzSample draws from fuzzed logits (NaN and infinities included) under
// fuzzed valid parameters: Sample must return an id inside the logits,
// never panic, and be reproducible from the seed.
func FuzzSample(f *testing.F) {
	f.Add([]byte{}, float32(1), float32(1), float32(0), float32(1), 0, uint64(1), []byte{})
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 192, 127}, float32(0.7), float32(0.9), float32(0.05), float32(1.1), 2, uint64(42), []byte{1, 0})
	f.Add([]byte{0, 0, 128, 255, 0, 0, 128, 255}, float32(0.5), float32(0.2), float32(0.5), float32(2), 0, uint64(0), []byte{0})
	f.Fuzz(func(t *testing.T, raw []byte, temp, topP, minP, pen float32, topK int, seed uint64, hist []byte) {
		p := Params{Temperature: temp, TopP: topP, MinP: minP, RepetitionPenalty: pen, TopK: topK, Seed: seed}
		if p.Validate() != nil {
			return
		}
		logits := make([]float32, len(raw)/4)
		for i := range logits {
			logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		history := make([]int, len(hist))
		for i, h := range hist {
			history[i] = int(h) - 2
		}
		a, _ := New(p)
		b, _ := New(p)
		for range 3 {
			x, y := a.Sample(logits, history), b.Sample(logits, history)
			if x != y {
				t.Fatalf("same seed, different draws: %d and %d", x, y)
			}
			if len(logits) == 0 && x != -1 || len(logits) > 0 && (x < 0 || x >= len(logits)) {
				t.Fatalf("drew %d from %d logits", x, len(logits))
			}
		}
	})
}

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRopeTable checks the float32 angle table against float64 math.
func TestRopeTable(t *testing.T) {
	const hd, pos = 64, 300
	cos, sin := make([]float32, hd/2), make([]float32, hd/2)
	RopeTable(cos, sin, pos, hd, 500000)
	for j := range cos {
		ang := pos * math.Pow(500000, -float64(2*j)/hd)
		// The float32 angle carries a relative error of a few ulps of
		// pos*freq, which at 300 radians is ~1e-4 absolute.
		if math.Abs(float64(cos[j])-math.Cos(ang)) > 2e-4 || math.Abs(float64(sin[j])-math.Sin(ang)) > 2e-4 {
			t.Errorf("pair %d: cos %v sin %v, want %v %v", j, cos[j], sin[j], math.Cos(ang), math.Sin(ang))
		}
	}
}

// TestRopeLayouts checks both layouts against a float64 rotation of the
// pairs each one names, and that Rope dispatches on the layout names.
func TestRopeLayouts(t *testing.T) {
	const heads, hd, pos = 3, 8, 5
	r := rand.New(rand.NewPCG(4, 4))
	cos, sin := make([]float32, hd/2), make([]float32, hd/2)
	RopeTable(cos, sin, pos, hd, 10000)
	for _, tc := range []struct {
		layout string
		pair   func(j int) (int, int)
	}{
		{LayoutInterleaved, func(j int) (int, int) { return 2 * j, 2*j + 1 }},
		{LayoutHalfSplit, func(j int) (int, int) { return j, j + hd/2 }},
	} {
		v := randVals(r, heads*hd, 1)
		got := append([]float32(nil), v...)
		if !Rope(got, cos, sin, hd, tc.layout) {
			t.Fatalf("Rope refused layout %q", tc.layout)
		}
		for h := range heads {
			for j := range hd / 2 {
				a, b := tc.pair(j)
				a, b = h*hd+a, h*hd+b
				c, s := float64(cos[j]), float64(sin[j])
				wa := float64(v[a])*c - float64(v[b])*s
				wb := float64(v[a])*s + float64(v[b])*c
				if math.Abs(float64(got[a])-wa) > 1e-6 || math.Abs(float64(got[b])-wb) > 1e-6 {
					t.Fatalf("%s head %d pair %d: got %v %v, want %v %v", tc.layout, h, j, got[a], got[b], wa, wb)
				}
			}
		}
	}
	v := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	if Rope(v, cos, sin, hd, "sideways") || v[0] != 1 || v[7] != 8 {
		t.Error("Rope accepted or applied an unknown layout")
	}
}

// TestRopeTableFrom: the table from precomputed frequencies is RopeTable's,
// bit for bit, at several head sizes, thetas and positions.
func TestRopeTableFrom(t *testing.T) {
	for _, hd := range []int{8, 16, 64, 128} {
		for _, theta := range []float32{10000, 500000, 1e6} {
			freq := make([]float32, hd/2)
			RopeFreqs(freq, hd, theta)
			for _, pos := range []int{0, 1, 7, 511, 4095, 131071} {
				c1, s1 := make([]float32, hd/2), make([]float32, hd/2)
				c2, s2 := make([]float32, hd/2), make([]float32, hd/2)
				RopeTable(c1, s1, pos, hd, theta)
				RopeTableFrom(c2, s2, freq, pos)
				for j := range c1 {
					if math.Float32bits(c1[j]) != math.Float32bits(c2[j]) || math.Float32bits(s1[j]) != math.Float32bits(s2[j]) {
						t.Fatalf("hd %d theta %g pos %d pair %d: (%g, %g) vs (%g, %g)", hd, theta, pos, j, c2[j], s2[j], c1[j], s1[j])
					}
				}
			}
		}
	}
}

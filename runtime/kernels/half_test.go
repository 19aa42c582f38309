package kernels

import (
	"math"
	"testing"
)

// TestF16Decode checks F16ToF32 on known values and on every bit pattern
// against the definition (refF16), and that the lookup table agrees.
func TestF16Decode(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x0400, 1.0 / (1 << 14)}, {0x3555, 0.333251953125}} {
		if got := F16ToF32(tc.h); got != tc.want {
			t.Errorf("f16 %#04x: got %v, want %v", tc.h, got, tc.want)
		}
	}
	tab := f16Table()
	for h := range 1 << 16 {
		got, want := F16ToF32(uint16(h)), refF16(uint16(h))
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("f16 %#04x: got %v, want %v", h, got, want)
		}
		if math.Float32bits(tab[h]) != math.Float32bits(got) {
			t.Fatalf("f16 table %#04x: %v, decoder %v", h, tab[h], got)
		}
	}
	if b := math.Float32bits(F16ToF32(0x8000)); b != 0x80000000 {
		t.Errorf("negative zero decoded as %#x", b)
	}
}

// TestBF16Decode checks that a bfloat16 is the top half of a float32.
func TestBF16Decode(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{{0x3f80, 1}, {0xc000, -2}, {0x3ec0, 0.375}, {0x0000, 0}, {0x7f80, float32(math.Inf(1))}} {
		if got := BF16ToF32(tc.h); got != tc.want {
			t.Errorf("bf16 %#04x: got %v, want %v", tc.h, got, tc.want)
		}
	}
}

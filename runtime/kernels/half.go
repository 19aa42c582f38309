package kernels

import (
	"math"
	"sync"
)

// f16Table maps every IEEE half bit pattern to its float32 value; it is
// built on first use (256 KiB) because a lookup is much cheaper than the
// bit twiddling inside a matvec's inner loop.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = F16ToF32(uint16(i))
	}
	return &t
})

// F16ToF32 converts an IEEE 754 half to float32 exactly (every half is
// representable as a float32), keeping signed zeros, subnormals, infinities
// and NaN payloads.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal half: value is frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// BF16ToF32 converts a bfloat16 (the top half of a float32) to float32.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

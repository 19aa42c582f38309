package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ConvertError says why Convert refused a tensor: a shape whose element
// count is impossible, data or scales of the wrong length for the shape and
// dtype, an unknown dtype, or a quantized target the element count does not
// fit. Package tensor imports nothing of ours, so callers wrap it in their
// omexerr category (it names the tensor).
type ConvertError struct {
	Tensor string
	Msg    string
}

// Error names the tensor and what could not be converted.
func (e *ConvertError) Error() string { return fmt.Sprintf("tensor %s: %s", e.Tensor, e.Msg) }

// Convert returns a copy of t with its elements in dtype to: every source
// element is decoded to float32 exactly (f16, bf16 and the block scales are
// exact in float32), then encoded the way ggml encodes it, so a tensor
// converted here holds the bytes llama.cpp's converters would write:
//
//   - f16: IEEE half, round to nearest even; overflow gives ±inf, NaN gives
//     a quiet NaN (0x7e00 with the sign), like ggml's GGML_FP32_TO_FP16;
//   - bf16: the top half of the float32, round to nearest even; NaN is kept
//     quiet (ggml_compute_fp32_to_bf16);
//   - q8_0: per block of 32, d = max|x|/127, q = round(x/d) (half away from
//     zero, computed as x·(1/d) like quantize_row_q8_0_ref), and the scale
//     stored rounded to f16, as ggml's block_q8_0 holds it;
//   - q4_0: per block of 32, m = the element of largest magnitude with its
//     sign, d = m/-8, q = min(15, trunc(x·(1/d) + 8.5)) (quantize_row_q4_0_ref:
//     the truncation rounds halves up, not away from zero), scale rounded to
//     f16.
//
// Blocks run over the flattened tensor (the Tensor layout), so a quantized
// target needs an element count that is a multiple of BlockSize. Converting
// to the tensor's own dtype returns an unchanged copy. t is never modified.
func Convert(t *Tensor, to DType) (*Tensor, error) {
	if t == nil {
		return nil, &ConvertError{Tensor: "<nil>", Msg: "no tensor"}
	}
	n, err := checkLayout(t)
	if err != nil {
		return nil, err
	}
	if !to.Valid() {
		return nil, &ConvertError{Tensor: t.Name, Msg: fmt.Sprintf("cannot convert to unknown dtype %v", to)}
	}
	if to.Quantized() && n%BlockSize != 0 {
		return nil, &ConvertError{Tensor: t.Name, Msg: fmt.Sprintf("%d elements are not whole blocks of %d, so it cannot become %v", n, BlockSize, to)}
	}
	out := &Tensor{Name: t.Name, DType: to, Shape: append([]int(nil), t.Shape...)}
	if to == t.DType {
		out.Data = append([]byte(nil), t.Data...)
		if t.Scales != nil {
			out.Scales = append([]float32(nil), t.Scales...)
		}
		return out, nil
	}
	x := Float32s(t)
	out.Data, out.Scales = encode(x, to)
	return out, nil
}

// Float32s returns every element of t decoded to float32, in row-major
// order. It trusts t's layout (Convert checks it first); a short Data or
// Scales would panic, so call it only on checked tensors.
func Float32s(t *Tensor) []float32 {
	n := t.Elements()
	x := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case F16:
		for i := range x {
			x[i] = F16ToF32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range x {
			x[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
	case Q8_0:
		for i := range x {
			x[i] = float32(int8(t.Data[i])) * t.Scales[i/BlockSize]
		}
	case Q4_0:
		const half = BlockSize / 2
		for i := range x {
			b, p := i/BlockSize, i%BlockSize
			by := t.Data[b*half+p%half]
			q := by & 0x0f
			if p >= half {
				q = by >> 4
			}
			x[i] = float32(int(q)-8) * t.Scales[b]
		}
	}
	return x
}

// checkLayout returns t's element count after checking that its shape,
// dtype, data and scales agree, so decoding can index without bounds
// surprises.
func checkLayout(t *Tensor) (int, error) {
	bad := func(format string, args ...any) (int, error) {
		return 0, &ConvertError{Tensor: t.Name, Msg: fmt.Sprintf(format, args...)}
	}
	if !t.DType.Valid() {
		return bad("unknown dtype %v", t.DType)
	}
	n := 1
	for _, s := range t.Shape {
		// Bound the product so DataBytes (4 per element) cannot overflow.
		if s < 0 || (s > 0 && n > math.MaxInt/4/s) {
			return bad("impossible shape %v", t.Shape)
		}
		n *= s
	}
	if t.DType.Quantized() && n%BlockSize != 0 {
		return bad("%v with %d elements, not whole blocks of %d", t.DType, n, BlockSize)
	}
	if want := t.DType.DataBytes(n); len(t.Data) != want {
		return bad("%v %v has %d data bytes, expected %d", t.DType, t.Shape, len(t.Data), want)
	}
	wantScales := 0
	if t.DType.Quantized() {
		wantScales = n / BlockSize
	}
	if len(t.Scales) != wantScales {
		return bad("%v has %d scales, expected %d", t.DType, len(t.Scales), wantScales)
	}
	return n, nil
}

// encode stores float32 values as dtype to (len(x) is whole blocks for the
// quantized types).
func encode(x []float32, to DType) ([]byte, []float32) {
	data := make([]byte, to.DataBytes(len(x)))
	switch to {
	case F32:
		for i, v := range x {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(data[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range x {
			binary.LittleEndian.PutUint16(data[2*i:], F32ToBF16(v))
		}
	case Q8_0:
		scales := make([]float32, len(x)/BlockSize)
		for b := range scales {
			scales[b] = quantizeQ8Block(data[b*BlockSize:(b+1)*BlockSize], x[b*BlockSize:(b+1)*BlockSize])
		}
		return data, scales
	case Q4_0:
		scales := make([]float32, len(x)/BlockSize)
		for b := range scales {
			scales[b] = quantizeQ4Block(data[b*BlockSize/2:(b+1)*BlockSize/2], x[b*BlockSize:(b+1)*BlockSize])
		}
		return data, scales
	}
	return data, nil
}

// quantizeQ8Block is ggml's quantize_row_q8_0_ref for one block: it writes
// 32 int8 values and returns the scale as ggml stores it (f16).
func quantizeQ8Block(q []byte, x []float32) float32 {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	for j, v := range x {
		q[j] = byte(int8(roundAway(v * id)))
	}
	return F16ToF32(F32ToF16(d))
}

// quantizeQ4Block is ggml's quantize_row_q4_0_ref for one block: byte j gets
// element j in its low nibble and element j+16 in its high nibble; it
// returns the scale as ggml stores it (f16).
func quantizeQ4Block(q []byte, x []float32) float32 {
	var amax, m float32
	for _, v := range x {
		if amax < abs32(v) {
			amax, m = abs32(v), v
		}
	}
	d := m / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	const half = BlockSize / 2
	for j := 0; j < half; j++ {
		// float32(...) keeps the product rounded on its own, as ggml's
		// separate statement does (no fused multiply-add).
		lo := min(15, truncInt8(float32(x[j]*id)+8.5))
		hi := min(15, truncInt8(float32(x[half+j]*id)+8.5))
		q[j] = byte(lo) | byte(hi)<<4
	}
	return F16ToF32(F32ToF16(d))
}

// truncInt8 is C's (int8_t) conversion of a float for the values quantizing
// produces (0.5..16.5 for finite input); a NaN, which C leaves undefined,
// gives 0 so the result does not depend on the machine.
func truncInt8(v float32) int8 {
	if v != v || v < -128 || v > 127 {
		return 0
	}
	return int8(v)
}

// roundAway is C's roundf: to the nearest integer, halves away from zero.
// math.Round works in float64, which holds every float32 exactly. Values
// outside int8 (only from NaN or infinite input) give 0.
func roundAway(v float32) int {
	r := math.Round(float64(v))
	if r != r || r < -128 || r > 127 {
		return 0
	}
	return int(r)
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// F32ToF16 rounds a float32 to the nearest IEEE half (ties to even), with
// half subnormals, overflow to ±inf and NaN as the quiet NaN 0x7e00 (sign
// kept): the results of ggml's GGML_FP32_TO_FP16.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // the half's biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// A half subnormal (value = h·2^-24) or zero. Below 2^-25 even
		// the tie rounds to 0; float32 subnormals land here too.
		if e < -10 {
			return sign
		}
		m := man | 0x800000
		shift := uint(14 - e)
		h := m >> shift
		rem, mid := m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > mid || rem == mid && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	// A carry out of the mantissa bumps the exponent, which is the right
	// rounding, up to 0x7c00 (inf) past the largest half.
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

// F16ToF32 converts an IEEE half to float32 exactly, keeping signed zeros,
// subnormals, infinities and NaN payloads.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac·2^-24, exact in float32
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// F32ToBF16 rounds a float32 to bfloat16 (ties to even), keeping NaN quiet:
// ggml's ggml_compute_fp32_to_bf16.
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

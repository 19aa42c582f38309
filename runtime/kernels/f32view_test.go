package kernels

import (
	"encoding/binary"
	"math"
	"testing"
	"unsafe"
)

// TestAsFloat32 checks that aligned data is viewed in place and misaligned
// data is copied correctly.
func TestAsFloat32(t *testing.T) {
	buf := make([]byte, 4*9)
	for i := range 9 {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(i)+0.5))
	}
	v := AsFloat32(buf[:32])
	if hostLittleEndian && unsafe.Pointer(&v[0]) != unsafe.Pointer(&buf[0]) {
		t.Error("aligned F32 data was copied instead of viewed in place")
	}
	odd := AsFloat32(buf[1:33]) // misaligned: must be a correct copy
	for i := range 8 {
		if v[i] != float32(i)+0.5 {
			t.Errorf("element %d: got %v", i, v[i])
		}
		want := math.Float32frombits(binary.LittleEndian.Uint32(buf[1+4*i:]))
		if math.Float32bits(odd[i]) != math.Float32bits(want) {
			t.Errorf("misaligned element %d: got %v, want %v", i, odd[i], want)
		}
	}
}

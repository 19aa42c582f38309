package kernels

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// hostLittleEndian is true when the machine stores float32 the way tensor
// data does, so F32 weights can be read in place.
var hostLittleEndian = func() bool {
	var x uint16 = 1
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// AsFloat32 views little-endian float32 bytes as []float32. On
// little-endian hosts with 4-byte aligned data it reinterprets the bytes
// without copying, so weights that live in an mmap stay there; otherwise it
// converts a copy. A trailing partial element (len(b) not a multiple of 4)
// is ignored.
func AsFloat32(b []byte) []float32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if hostLittleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

package model

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/omex-dev/omex/tensor"
)

// parallelWork is the number of multiply-adds above which a matvec is split
// across goroutines; below it the fan-out costs more than it saves.
const parallelWork = 1 << 16

// matVec computes out = W x (out has rows elements, x has cols). Each output
// is one float32 accumulation over the row in column order, exactly as
// llama2.c's matmul, so splitting rows across goroutines changes nothing.
func (m *matrix) matVec(out, x []float32) {
	workers := runtime.GOMAXPROCS(0)
	if workers > m.rows {
		workers = m.rows
	}
	if workers <= 1 || m.rows*m.cols < parallelWork {
		m.rowsDot(out, x, 0, m.rows)
		return
	}
	var wg sync.WaitGroup
	chunk := (m.rows + workers - 1) / workers
	for lo := 0; lo < m.rows; lo += chunk {
		hi := min(lo+chunk, m.rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.rowsDot(out, x, lo, hi)
		}()
	}
	wg.Wait()
}

// rowsDot computes out[r] = W[r] . x for rows lo..hi-1.
//
// Every product is written float32(w*x) before it is added: Go may fuse
// a*b+c into one FMA on some targets (arm64, amd64 v3, ...), which rounds
// once instead of twice and would break bit-equality with llama2.c; an
// explicit conversion forbids that fusion.
func (m *matrix) rowsDot(out, x []float32, lo, hi int) {
	n := m.cols
	x = x[:n]
	switch m.dtype {
	case tensor.F32:
		for r := lo; r < hi; r++ {
			w := m.f32[r*n : r*n+n]
			var val float32
			for j, wj := range w {
				val += float32(wj * x[j])
			}
			out[r] = val
		}
	case tensor.F16:
		tab := f16Table()
		for r := lo; r < hi; r++ {
			w := m.raw[2*r*n : 2*(r*n+n)]
			var val float32
			for j := range x {
				val += float32(tab[binary.LittleEndian.Uint16(w[2*j:])] * x[j])
			}
			out[r] = val
		}
	case tensor.BF16:
		for r := lo; r < hi; r++ {
			w := m.raw[2*r*n : 2*(r*n+n)]
			var val float32
			for j := range x {
				val += float32(bf16ToF32(binary.LittleEndian.Uint16(w[2*j:])) * x[j])
			}
			out[r] = val
		}
	case tensor.Q8_0:
		for r := lo; r < hi; r++ {
			out[r] = m.q8Dot(r*n, x)
		}
	case tensor.Q4_0:
		for r := lo; r < hi; r++ {
			out[r] = m.q4Dot(r*n, x)
		}
	}
}

// q8Dot is the dot product of x with the Q8_0 elements start..start+len(x)-1.
// Blocks run over the flattened tensor, so a row may begin or end inside a
// block (llama2.c's int8 export of stories260K has 172-wide rows); the loop
// walks the row one block segment at a time. Each weight is dequantized to
// float32 first, so the result equals an F32 matvec on dequantized weights.
func (m *matrix) q8Dot(start int, x []float32) float32 {
	const bs = tensor.BlockSize
	q := m.raw[start : start+len(x)]
	var val float32
	for j := 0; j < len(x); {
		b := (start + j) / bs
		end := min(len(x), (b+1)*bs-start)
		s := m.scales[b]
		for ; j < end; j++ {
			w := float32(int8(q[j])) * s
			val += float32(w * x[j])
		}
	}
	return val
}

// q4Dot is q8Dot for Q4_0 (see q4Value for the nibble layout).
func (m *matrix) q4Dot(start int, x []float32) float32 {
	const bs, half = tensor.BlockSize, tensor.BlockSize / 2
	var val float32
	for j := 0; j < len(x); {
		b := (start + j) / bs
		end := min(len(x), (b+1)*bs-start)
		s := m.scales[b]
		blk := m.raw[b*half : b*half+half]
		for ; j < end; j++ {
			p := (start + j) % bs
			var nib byte
			if p < half {
				nib = blk[p] & 0x0f
			} else {
				nib = blk[p-half] >> 4
			}
			w := float32(int(nib)-8) * s
			val += float32(w * x[j])
		}
	}
	return val
}

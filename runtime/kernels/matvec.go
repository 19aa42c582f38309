package kernels

import (
	"runtime"
	"sync"

	"github.com/omex-dev/omex/tensor"
)

// parallelWork is the number of multiply-adds above which a product is
// split across goroutines; below it the fan-out costs more than it saves.
const parallelWork = 1 << 16

// MatVec computes out = W x (out has Rows elements, x has Cols). Each
// output is one float32 accumulation over the row in column order, exactly
// as llama2.c's matmul, so splitting rows across goroutines (done for large
// matrices) changes nothing.
func (m *Matrix) MatVec(out, x []float32) { m.MatMul(out, x, 1) }

// MatMul computes n products at once: x holds n input rows of Cols values
// and out receives n output rows of Rows values (x [n,Cols] -> out
// [n,Rows], the IR's matmul with weights [out,in]). Output row i is bit for
// bit MatVec(out[i*Rows:], x[i*Cols:]); doing them together only reads
// each weight row once for all n inputs.
func (m *Matrix) MatMul(out, x []float32, n int) {
	out, x = out[:n*m.rows], x[:n*m.cols]
	workers := runtime.GOMAXPROCS(0)
	if workers > m.rows {
		workers = m.rows
	}
	if workers <= 1 || n*m.rows*m.cols < parallelWork {
		m.rowsDot(out, x, n, 0, m.rows)
		return
	}
	m.parallelRowsDot(out, x, n, workers)
}

// parallelRowsDot splits the weight rows across workers goroutines. It is
// a function of its own so the goroutine closure's captures escape only on
// this path: the serial path above allocates nothing per call.
func (m *Matrix) parallelRowsDot(out, x []float32, n, workers int) {
	var wg sync.WaitGroup
	chunk := (m.rows + workers - 1) / workers
	for lo := 0; lo < m.rows; lo += chunk {
		hi := min(lo+chunk, m.rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.rowsDot(out, x, n, lo, hi)
		}()
	}
	wg.Wait()
}

// rowsDot computes out[i*rows+r] = W[r] . x[i] for weight rows lo..hi-1
// and the n input rows i.
func (m *Matrix) rowsDot(out, x []float32, n, lo, hi int) {
	c := m.cols
	switch m.dtype {
	case tensor.F32:
		for r := lo; r < hi; r++ {
			w := m.f32[r*c : r*c+c]
			i := 0
			for ; i+4 <= n; i += 4 {
				out[i*m.rows+r], out[(i+1)*m.rows+r], out[(i+2)*m.rows+r], out[(i+3)*m.rows+r] =
					dot4F32(w, x[i*c:i*c+c], x[(i+1)*c:(i+1)*c+c], x[(i+2)*c:(i+2)*c+c], x[(i+3)*c:(i+3)*c+c])
			}
			for ; i < n; i++ {
				out[i*m.rows+r] = dotF32(w, x[i*c:i*c+c])
			}
		}
	case tensor.F16:
		tab := f16Table()
		for r := lo; r < hi; r++ {
			w := m.raw[2*r*c : 2*(r*c+c)]
			for i := range n {
				out[i*m.rows+r] = dotF16(tab, w, x[i*c:i*c+c])
			}
		}
	case tensor.BF16:
		for r := lo; r < hi; r++ {
			w := m.raw[2*r*c : 2*(r*c+c)]
			for i := range n {
				out[i*m.rows+r] = dotBF16(w, x[i*c:i*c+c])
			}
		}
	case tensor.Q8_0:
		for r := lo; r < hi; r++ {
			for i := range n {
				out[i*m.rows+r] = m.q8Dot(r*c, x[i*c:i*c+c])
			}
		}
	case tensor.Q4_0:
		for r := lo; r < hi; r++ {
			for i := range n {
				out[i*m.rows+r] = m.q4Dot(r*c, x[i*c:i*c+c])
			}
		}
	}
}

// dotF32 is the float32 dot product of w and x (len(x) >= len(w)), summed
// in order.
func dotF32(w, x []float32) float32 {
	x = x[:len(w)]
	var val float32
	for j, wj := range w {
		val += float32(wj * x[j])
	}
	return val
}

// dotF16 is the float32 dot product of x with the F16 row w (2*len(x)
// bytes), each weight decoded through the table.
func dotF16(tab *[1 << 16]float32, w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var val float32
	for j, xj := range x {
		h := uint16(w[2*j]) | uint16(w[2*j+1])<<8 // little-endian
		val += float32(tab[h] * xj)
	}
	return val
}

// dotBF16 is dotF16 for a BF16 row.
func dotBF16(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var val float32
	for j, xj := range x {
		h := uint16(w[2*j]) | uint16(w[2*j+1])<<8 // little-endian
		val += float32(BF16ToF32(h) * xj)
	}
	return val
}

// dot4F32 is four dotF32 of one weight row with four inputs at once: the
// four sums are independent chains, each in the same order as dotF32, so
// the results are identical while the CPU overlaps their additions.
func dot4F32(w, x0, x1, x2, x3 []float32) (v0, v1, v2, v3 float32) {
	n := len(w)
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	for j, wj := range w {
		v0 += float32(wj * x0[j])
		v1 += float32(wj * x1[j])
		v2 += float32(wj * x2[j])
		v3 += float32(wj * x3[j])
	}
	return
}

// q8Dot is the dot product of x with the Q8_0 elements start..start+len(x)-1.
// Blocks run over the flattened tensor, so a row may begin or end inside a
// block (llama2.c's int8 export of stories260K has 172-wide rows); the loop
// walks the row one block segment at a time. Each weight is dequantized to
// float32 first, so the result equals an F32 matvec on dequantized weights.
func (m *Matrix) q8Dot(start int, x []float32) float32 {
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
func (m *Matrix) q4Dot(start int, x []float32) float32 {
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

package interp

import (
	"math"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
)

// ropeCachePositions bounds the positions whose rotary tables are kept;
// later positions are computed on each use.
const ropeCachePositions = 1 << 16

// ropeKey identifies a rotary table: every rope of a model shares one, as
// runtime/model computes it once per position for all layers.
type ropeKey struct {
	theta   uint32 // float32 bits
	headDim int
}

// ropeTable caches kernels.RopeTable for positions 0..n-1: position p's
// cos and sin are cos[p*half:(p+1)*half] and sin[...].
type ropeTable struct {
	half     int
	cos, sin []float32
	n        int
}

// table returns the cos and sin of position pos for rotation spec r: the
// very numbers kernels.RopeTable gives (the cache only avoids recomputing
// them for every layer and call).
func (ip *Interp) table(r ropeSpec, pos int) (cos, sin []float32) {
	half := r.headDim / 2
	if pos >= ropeCachePositions {
		if cap(ip.cos) < half {
			ip.cos, ip.sin = make([]float32, half), make([]float32, half)
		}
		cos, sin = ip.cos[:half], ip.sin[:half]
		kernels.RopeTable(cos, sin, pos, r.headDim, r.theta)
		return cos, sin
	}
	key := ropeKey{math.Float32bits(r.theta), r.headDim}
	t := ip.ropes[key]
	if t == nil {
		t = &ropeTable{half: half}
		ip.ropes[key] = t
	}
	for t.n <= pos {
		t.cos = append(t.cos, make([]float32, half)...)
		t.sin = append(t.sin, make([]float32, half)...)
		kernels.RopeTable(t.cos[t.n*half:], t.sin[t.n*half:], t.n, r.headDim, r.theta)
		t.n++
	}
	return t.cos[pos*half : (pos+1)*half], t.sin[pos*half : (pos+1)*half]
}

// rope rotates, in place, the rows of v (rows of heads*headDim values);
// row i is at position pos+i.
func (ip *Interp) rope(v []float32, rows, pos int, r ropeSpec) error {
	if pos < 0 {
		return omexerr.Executionf("execution.bad_position", "position %d is negative", pos)
	}
	w := r.heads * r.headDim
	for i := 0; i < rows; i++ {
		cos, sin := ip.table(r, pos+i)
		kernels.Rope(v[i*w:(i+1)*w], cos, sin, r.headDim, r.layout)
	}
	return nil
}

package testkernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/omex-dev/omex/runtime/kernels"
)

// attnRunsHere is runsHere for an attention kernel.
func attnRunsHere(t testing.TB, c attnKernel) (asm, ok bool) { return isaRunsHere(t, c.goarch, c.isa) }

// attnCase is a random query row and cache for kernel c: the row-major
// caches runtime/kernels reads and the transposed key cache the kernel
// reads.
type attnCase struct {
	q, keys, values, keysT []float32
	heads, kvHeads         int
}

func newAttnCase(rng *rand.Rand, c attnKernel, kvMul int) attnCase {
	kvHeads := c.kvDim / c.headDim
	ctx := c.ctxPad
	a := attnCase{heads: kvHeads * kvMul, kvHeads: kvHeads,
		keys: make([]float32, ctx*c.kvDim), values: make([]float32, ctx*c.kvDim), keysT: make([]float32, c.kvDim*c.ctxPad)}
	a.q = make([]float32, a.heads*c.headDim)
	for i := range a.q {
		a.q[i] = randFloat(rng)
	}
	for i := range a.keys {
		a.keys[i], a.values[i] = randFloat(rng), randFloat(rng)
	}
	for t := range ctx {
		for j := range c.kvDim {
			a.keysT[j*c.ctxPad+t] = a.keys[t*c.kvDim+j]
		}
	}
	return a
}

// TestAttentionBitIdentical compares every attention kernel that runs
// here, and its fallback, with runtime/kernels.Attention at many lengths,
// with plain and grouped-query heads.
func TestAttentionBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	ran := 0
	for _, c := range attnKernels {
		asm, ok := attnRunsHere(t, c)
		if !ok {
			t.Logf("%s: CPU lacks the features, skipped", c.name)
			continue
		}
		if asm {
			ran++
		}
		for _, kvMul := range []int{1, 2} {
			a := newAttnCase(rng, c, kvMul)
			for _, npos := range []int{1, 2, 3, 7, 16, 17, 33, 64, 65, 100, c.ctxPad} {
				if npos > c.ctxPad {
					continue
				}
				name := fmt.Sprintf("%s kv x%d npos %d", c.name, kvMul, npos)
				want := make([]float32, a.heads*c.headDim)
				kernels.Attention(want, a.q, a.keys, a.values, a.heads, a.kvHeads, c.headDim, npos, make([]float32, npos))
				for _, f := range []struct {
					name string
					fn   func(out, q, keysT, values []float32, heads, kvHeads, npos int, scores []float32)
				}{{"kernel", c.fn}, {"fallback", c.fallback}} {
					got := make([]float32, len(want))
					f.fn(got, a.q, a.keysT, a.values, a.heads, a.kvHeads, npos, make([]float32, c.ctxPad))
					if i, ok := firstDiff(got, want); !ok {
						t.Fatalf("%s %s: out[%d] = %g, want %g", name, f.name, i, got[i], want[i])
					}
				}
			}
		}
	}
	t.Logf("attention kernels run as assembly on %s: %d", runtime.GOARCH, ran)
}

// TestAttentionChecksArguments: a cache or scratch too short panics in
// the Go wrapper instead of reaching the assembly.
func TestAttentionChecksArguments(t *testing.T) {
	c := attnKernels[0]
	a := newAttnCase(rand.New(rand.NewPCG(1, 1)), c, 1)
	out := make([]float32, a.heads*c.headDim)
	for name, call := range map[string]func(){
		"short scores": func() { c.fn(out, a.q, a.keysT, a.values, a.heads, a.kvHeads, 2, make([]float32, 1)) },
		"npos > ctx":   func() { c.fn(out, a.q, a.keysT, a.values, a.heads, a.kvHeads, c.ctxPad+1, make([]float32, 2*c.ctxPad)) },
		"short keys":   func() { c.fn(out, a.q, a.keysT[:10], a.values, a.heads, a.kvHeads, 2, make([]float32, c.ctxPad)) },
		"bad heads":    func() { c.fn(out, a.q, a.keysT, a.values, a.heads, a.kvHeads+1, 2, make([]float32, c.ctxPad)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}

// BenchmarkAttention compares the attention kernels that run here with
// runtime/kernels.Attention over 256 cached positions.
func BenchmarkAttention(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, c := range attnKernels {
		if asm, ok := attnRunsHere(b, c); !asm || !ok || c.ctxPad < 256 {
			continue
		}
		a := newAttnCase(rng, c, 2)
		out, scores := make([]float32, a.heads*c.headDim), make([]float32, c.ctxPad)
		b.Run(c.name+"/reference", func(b *testing.B) {
			for b.Loop() {
				kernels.Attention(out, a.q, a.keys, a.values, a.heads, a.kvHeads, c.headDim, 256, scores)
			}
		})
		b.Run(c.name+"/kernel", func(b *testing.B) {
			for b.Loop() {
				c.fn(out, a.q, a.keysT, a.values, a.heads, a.kvHeads, 256, scores)
			}
		})
	}
}

// FuzzAttention fills the query and caches of every attention kernel that
// runs here from arbitrary float32 bit patterns (repeated to size) and
// compares with runtime/kernels.Attention bit for bit, except that a NaN
// may carry another payload: when both operands of a multiply or add are
// NaN, the hardware propagates the first one, and the kernels' operand
// order need not be the Go compiler's.
func FuzzAttention(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f, 1, 0, 0, 0}, uint16(7))
	f.Fuzz(func(t *testing.T, raw []byte, n uint16) {
		if len(raw) < 4 {
			return
		}
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		for _, c := range attnKernels {
			if _, ok := attnRunsHere(t, c); !ok {
				continue
			}
			npos := 1 + int(n)%c.ctxPad
			kvHeads := c.kvDim / c.headDim
			heads := 2 * kvHeads
			next := 0
			fill := func(s []float32) {
				for i := range s {
					s[i] = vals[next%len(vals)]
					next++
				}
			}
			q := make([]float32, heads*c.headDim)
			keys, values := make([]float32, c.ctxPad*c.kvDim), make([]float32, c.ctxPad*c.kvDim)
			fill(q)
			fill(keys)
			fill(values)
			keysT := make([]float32, c.kvDim*c.ctxPad)
			for p := range c.ctxPad {
				for j := range c.kvDim {
					keysT[j*c.ctxPad+p] = keys[p*c.kvDim+j]
				}
			}
			want := make([]float32, len(q))
			kernels.Attention(want, q, keys, values, heads, kvHeads, c.headDim, npos, make([]float32, npos))
			got := make([]float32, len(q))
			c.fn(got, q, keysT, values, heads, kvHeads, npos, make([]float32, c.ctxPad))
			for i := range got {
				if !sameBits(got[i], want[i]) {
					t.Fatalf("%s npos %d: out[%d] = %g (%#08x), want %g (%#08x)", c.name, npos, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	})
}

package goasm

// modelRuntimeSource is model_runtime_gen.go: the helpers every generated
// model uses (weight loading and checks, the matvec worker pool, the
// embedding row of an interleaved table, the small elementwise ops). It is
// the same for every model, so it is source text rather than generated
// from the module.
func modelRuntimeSource(pkg string) string {
	return header + "package " + pkg + modelRuntimeBody
}

const modelRuntimeBody = `

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// mvWeight is a matrix in the kernels' interleaved layout and the
// generated kernel that reads it.
type mvWeight struct {
	fn      func(out []float32, w []byte, s []float32, x []float32, g0, g1 int)
	rows    func(out []float32, w []byte, s []float32, x []float32, rows, stride, g0, g1 int)
	data    []byte
	f32     []float32 // data as float32 (f32 tables: the embedding row)
	scales  []float32
	dtype   tensor.DType
	lanes   int
	cols    int
	groups  int
	work    int // multiply-adds of one product
}

// loadInterleaved reads weight name and checks it is the interleaved
// matrix the kernel was generated for.
func loadInterleaved(get func(string) (*tensor.Tensor, error), name string, dt tensor.DType, rows, cols, lanes, groups, dataBytes, scales int,
	fn func(out []float32, w []byte, s []float32, x []float32, g0, g1 int),
	rowsFn func(out []float32, w []byte, s []float32, x []float32, rows, stride, g0, g1 int)) (mvWeight, error) {
	t, err := get(name)
	if err != nil {
		return mvWeight{}, err
	}
	if t == nil || t.DType != dt || len(t.Shape) != 2 || t.Shape[0] != groups*lanes || t.Shape[1] != cols ||
		len(t.Data) != dataBytes || len(t.Scales) != scales {
		return mvWeight{}, omexerr.Modelf("model.tensor_layout", "tensor %s is not the %v [%d,%d] in groups of %d rows the kernels were generated for", name, dt, rows, cols, lanes).WithTensor(name)
	}
	w := mvWeight{fn: fn, rows: rowsFn, data: t.Data, scales: t.Scales, dtype: dt, lanes: lanes, cols: cols, groups: groups, work: rows * cols}
	if dt == tensor.F32 {
		w.f32 = kernels.AsFloat32(t.Data)
	}
	return w, nil
}

// loadMatrix reads a row-major weight matrix.
func loadMatrix(get func(string) (*tensor.Tensor, error), name string, rows, cols int) (*kernels.Matrix, error) {
	t, err := get(name)
	if err != nil {
		return nil, err
	}
	return kernels.NewMatrix(t, name, rows, cols)
}

// loadVector reads a norm scale or a bias as float32.
func loadVector(get func(string) (*tensor.Tensor, error), name string, n int) ([]float32, error) {
	t, err := get(name)
	if err != nil {
		return nil, err
	}
	return kernels.Vector(t, name, n)
}

// row writes row r of the interleaved matrix, dequantized as
// runtime/kernels dequantizes, into dst (the embedding lookup).
func (w *mvWeight) row(r int, dst []float32) {
	k, lanes := w.cols, w.lanes
	g, j := r/lanes, r%lanes
	dst = dst[:k]
	switch w.dtype {
	case tensor.F32:
		for c := range dst {
			dst[c] = w.f32[(g*k+c)*lanes+j]
		}
	case tensor.F16, tensor.BF16:
		for c := range dst {
			i := 2 * ((g*k+c)*lanes + j)
			h := uint16(w.data[i]) | uint16(w.data[i+1])<<8
			if w.dtype == tensor.F16 {
				dst[c] = kernels.F16ToF32(h)
			} else {
				dst[c] = kernels.BF16ToF32(h)
			}
		}
	case tensor.Q8_0:
		nb := k / tensor.BlockSize
		for c := range dst {
			dst[c] = float32(int8(w.data[(g*k+c)*lanes+j])) * w.scales[(g*nb+c/tensor.BlockSize)*lanes+j]
		}
	case tensor.Q4_0:
		nb := k / tensor.BlockSize
		for c := range dst {
			q := w.data[(g*k/2+c/2)*lanes+j] >> (4 * (c % 2)) & 0x0f
			dst[c] = float32(int(q)-8) * w.scales[(g*nb+c/tensor.BlockSize)*lanes+j]
		}
	}
}

// mvParallelWork is the number of multiply-adds above which a product is
// split across goroutines (runtime/kernels' threshold).
const mvParallelWork = 1 << 16

// rowParts is a model whose prompt rows can be computed in ranges: part
// is one of its per-row steps, scores the running goroutine's attention
// scratch.
type rowParts interface {
	runPart(part int, c []float32, pos, r0, r1 int, scores []float32)
}

// mvJob is one range of row groups of one product: a matvec, or with
// rows > 0 that many input rows stride floats apart; or, with parts set,
// rows r0..r1-1 of a per-row step.
type mvJob struct {
	w            *mvWeight
	out, x       []float32
	g0, g1       int
	rows, stride int
	parts        rowParts
	part, pos    int
}

// run computes the job; scores is the running goroutine's scratch.
func (j *mvJob) run(scores []float32) {
	if j.parts != nil {
		j.parts.runPart(j.part, j.x, j.pos, j.g0, j.g1, scores)
		return
	}
	if j.rows > 0 {
		j.w.rows(j.out, j.w.data, j.w.scales, j.x, j.rows, j.stride, j.g0, j.g1)
	} else {
		j.w.fn(j.out, j.w.data, j.w.scales, j.x, j.g0, j.g1)
	}
}

// mvSpin is how long a worker keeps polling for its next job before it
// sleeps: products come back to back in a prompt's chunk and every few
// microseconds in decoding, and waking a sleeping thread costs more than
// a small product.
const mvSpin = 200 * time.Microsecond

// mvWorker is one helper goroutine of the pool: a job slot published by
// a sequence number, the sequence it finished, and a wake-up channel for
// when it sleeps.
type mvWorker struct {
	job      mvJob
	scores   []float32
	posted   atomic.Uint64
	finished atomic.Uint64
	sleeping atomic.Bool
	wake     chan struct{}
}

// mvPool runs the row groups of large products on GOMAXPROCS goroutines
// started once, so a decode step starts none and allocates nothing.
// Splitting by row groups changes no sum: every output is one lane's
// sequential sum.
type mvPool struct {
	workers []*mvWorker
}

// newPool starts the workers, each with attention scratch of scratch
// floats.
func newPool(scratch int) *mvPool {
	p := &mvPool{}
	for range runtime.GOMAXPROCS(0) - 1 {
		w := &mvWorker{wake: make(chan struct{}, 1), scores: make([]float32, scratch)}
		p.workers = append(p.workers, w)
		go w.loop()
	}
	return p
}

// loop runs the worker's jobs: it polls for the next one for mvSpin
// (yielding now and then), then sleeps until post wakes it. The posted count is re-read after
// announcing sleep, so a job posted meanwhile is not missed; a stale
// wake-up only costs one more look.
func (w *mvWorker) loop() {
	var done uint64
	for {
		deadline := time.Now().Add(mvSpin)
		for i := 0; w.posted.Load() == done; i++ {
			if i%64 != 63 {
				continue
			}
			// Let anything else runnable on this P go first: with fewer
			// Ps than busy goroutines a pure spin would hold the P for a
			// whole time slice.
			runtime.Gosched()
			if time.Now().After(deadline) {
				w.sleeping.Store(true)
				if w.posted.Load() == done {
					<-w.wake
				}
				w.sleeping.Store(false)
				deadline = time.Now().Add(mvSpin)
			}
		}
		done++
		w.job.run(w.scores)
		w.finished.Store(done)
	}
}

// post hands w its next job.
func (w *mvWorker) post(j mvJob) {
	w.job = j
	w.posted.Add(1)
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// wait returns when w has finished every job posted to it.
func (w *mvWorker) wait() {
	for i := 1; w.finished.Load() != w.posted.Load(); i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
}

// split runs j's row groups in parts: the first on this goroutine, the
// others on workers.
func (p *mvPool) split(j mvJob) {
	parts := min(len(p.workers)+1, j.w.groups)
	chunk := (j.w.groups + parts - 1) / parts
	used := 0
	for g0 := chunk; g0 < j.w.groups; g0 += chunk {
		part := j
		part.g0, part.g1 = g0, min(g0+chunk, j.w.groups)
		p.workers[used].post(part)
		used++
	}
	j.g0, j.g1 = 0, chunk
	j.run(nil)
	for _, w := range p.workers[:used] {
		w.wait()
	}
}

// rows runs per-row step part of m over rows 0..n-1 of chunk c, split
// into ranges over the workers (rows are independent; each worker has
// its own attention scratch, this goroutine uses m's).
func (p *mvPool) rows(m rowParts, part int, c []float32, pos, n int, scores []float32) {
	parts := min(len(p.workers)+1, n)
	if parts <= 1 {
		m.runPart(part, c, pos, 0, n, scores)
		return
	}
	chunk := (n + parts - 1) / parts
	used := 0
	for r0 := chunk; r0 < n; r0 += chunk {
		p.workers[used].post(mvJob{parts: m, part: part, x: c, pos: pos, g0: r0, g1: min(r0+chunk, n)})
		used++
	}
	m.runPart(part, c, pos, 0, chunk, scores)
	for _, w := range p.workers[:used] {
		w.wait()
	}
}

// matvec computes out = W x with w's kernel, in parallel when it is large.
func (p *mvPool) matvec(w *mvWeight, out, x []float32) {
	if len(p.workers) == 0 || w.work < mvParallelWork || w.groups < 2 {
		w.fn(out, w.data, w.scales, x, 0, w.groups)
		return
	}
	p.split(mvJob{w: w, out: out, x: x, g1: w.groups})
}

// matmul computes out[r*stride:] = W x[r*stride:] for rows rows with w's
// several-rows kernel, split by row groups across the pool when large.
func (p *mvPool) matmul(w *mvWeight, out, x []float32, rows, stride int) {
	if len(p.workers) == 0 || rows*w.work < mvParallelWork || w.groups < 2 {
		w.rows(out, w.data, w.scales, x, rows, stride, 0, w.groups)
		return
	}
	p.split(mvJob{w: w, out: out, x: x, g1: w.groups, rows: rows, stride: stride})
}

// prefault writes a zero into every page of each buffer, so the pages are
// mapped when the model is built and the first prompt does not take their
// faults (a 50-token first prompt of TinyStories-656K ran 1.3-1.7x
// faster); llama.cpp clears its caches at start for the same effect.
func prefault(bufs ...[]float32) {
	for _, b := range bufs {
		for i := 0; i < len(b); i += 1024 {
			b[i] = 0
		}
	}
}

// storeKeysT writes one position's key row into a key cache laid out
// [width][ctxPad], the transposed keys of the attention kernels.
func storeKeysT(keysT, k []float32, pos, ctxPad int) {
	for j, v := range k {
		keysT[j*ctxPad+pos] = v
	}
}

// geluInto writes the exact (erf) GELU of x into out, computed in float64
// and rounded once (docs/IR.md).
func geluInto(out, x []float32) {
	for i, v := range x {
		f := float64(v)
		out[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

// scalarAdd writes a + s (s + a when first) into out.
func scalarAdd(out, a []float32, s float32, first bool) {
	for i, v := range a {
		if first {
			out[i] = s + v
		} else {
			out[i] = v + s
		}
	}
}

// scalarMul writes a * s (s * a when first) into out.
func scalarMul(out, a []float32, s float32, first bool) {
	for i, v := range a {
		if first {
			out[i] = s * v
		} else {
			out[i] = v * s
		}
	}
}

// sliceCopy copies elements s..e-1 of the middle axis of x, seen as
// [outer, n, inner], into out.
func sliceCopy(out, x []float32, outer, n, inner, s, e int) {
	w := (e - s) * inner
	for o := range outer {
		copy(out[o*w:(o+1)*w], x[(o*n+s)*inner:(o*n+e)*inner])
	}
}
`

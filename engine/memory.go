package engine

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// heapMetric is the bytes of heap memory occupied by objects, live or not
// yet collected: what the process actually holds. Unlike ReadMemStats,
// reading it does not stop the world, so it can be sampled often.
const heapMetric = "/memory/classes/heap/objects:bytes"

// sampleEvery is the heap sampling period: short enough to see the peak of
// a node that allocates for a few milliseconds.
const sampleEvery = 2 * time.Millisecond

// heapMonitor samples the heap while a run is going and tracks, for each
// running attempt, the peak growth above the heap at the attempt's start.
type heapMonitor struct {
	mu      sync.Mutex
	watches map[*heapWatch]struct{}
	peak    int64 // the run's largest heap
	stop    chan struct{}
	done    chan struct{}
}

// heapWatch is one attempt's measurement.
type heapWatch struct {
	base   int64
	peak   int64 // growth above base
	limit  int64 // bytes; over it (after a GC confirms) onOver is called once
	onOver func(peak int64)
	fired  bool
	lastGC time.Time
}

func readHeap() int64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

func startHeapMonitor() *heapMonitor {
	m := &heapMonitor{watches: map[*heapWatch]struct{}{}, stop: make(chan struct{}), done: make(chan struct{}), peak: readHeap()}
	go m.loop()
	return m
}

func (m *heapMonitor) loop() {
	defer close(m.done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sample()
		}
	}
}

// sample reads the heap once and updates every watch. A watch over its
// limit is confirmed with a garbage collection first (at most every 100ms
// per watch) so garbage not yet collected does not count as use.
func (m *heapMonitor) sample() {
	h := readHeap()
	m.mu.Lock()
	m.peak = max(m.peak, h)
	var suspects []*heapWatch
	for w := range m.watches {
		w.peak = max(w.peak, h-w.base)
		if !w.fired && w.limit > 0 && h-w.base > w.limit && time.Since(w.lastGC) > 100*time.Millisecond {
			w.lastGC = time.Now()
			suspects = append(suspects, w)
		}
	}
	m.mu.Unlock()
	if len(suspects) == 0 {
		return
	}
	runtime.GC()
	h = readHeap()
	m.mu.Lock()
	var fire []*heapWatch
	for _, w := range suspects {
		if _, running := m.watches[w]; running && !w.fired && h-w.base > w.limit {
			w.fired = true
			fire = append(fire, w)
		}
	}
	m.mu.Unlock()
	for _, w := range fire {
		w.onOver(w.peak)
	}
}

// watch starts measuring an attempt; limit 0 means no limit. It collects
// garbage first so the baseline is the live heap: garbage left by earlier
// nodes would otherwise hide this node's growth when the collector frees it
// during the node. (Nodes are coarse, and a collection of a heap of weight
// slices, which hold no pointers, is quick.)
func (m *heapMonitor) watch(limit int64, onOver func(int64)) *heapWatch {
	runtime.GC()
	w := &heapWatch{base: readHeap(), limit: limit, onOver: onOver}
	m.mu.Lock()
	m.watches[w] = struct{}{}
	m.mu.Unlock()
	return w
}

// end stops measuring an attempt and returns its peak heap growth, with a
// last sample so a node shorter than the sampling period is measured too.
func (m *heapMonitor) end(w *heapWatch) int64 {
	h := readHeap()
	m.mu.Lock()
	defer m.mu.Unlock()
	w.peak = max(w.peak, h-w.base)
	m.peak = max(m.peak, h)
	delete(m.watches, w)
	return w.peak
}

// close stops sampling and returns the run's peak heap.
func (m *heapMonitor) close() int64 {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

package telemetry

import (
	"sync"
	"time"
)

// ProbeBytes is the buffer size of the bandwidth probe: larger than the
// last-level cache of common CPUs, so the copies go to memory.
const ProbeBytes = 64 << 20

// MeasureCopyBandwidth measures memory bandwidth in bytes per second by
// copying a size-byte buffer split among workers goroutines (as the
// runtime's matrix-vector kernel splits its rows), best of rounds. Each
// copied byte counts twice: once read and once written.
func MeasureCopyBandwidth(size, workers, rounds int) float64 {
	if size <= 0 || workers <= 0 || rounds <= 0 {
		return 0
	}
	src := make([]byte, size)
	dst := make([]byte, size)
	for i := range src {
		src[i] = byte(i) // touch every page so the probe does not time page faults
	}
	copy(dst, src)
	chunk := (size + workers - 1) / workers
	best := 0.0
	for r := 0; r < rounds; r++ {
		start := time.Now()
		var wg sync.WaitGroup
		for lo := 0; lo < size; lo += chunk {
			hi := min(lo+chunk, size)
			wg.Add(1)
			go func() {
				defer wg.Done()
				copy(dst[lo:hi], src[lo:hi])
			}()
		}
		wg.Wait()
		if s := time.Since(start).Seconds(); s > 0 {
			best = max(best, 2*float64(size)/s)
		}
	}
	return best
}

package sandbox

import (
	"fmt"
	"sync"
)

// cappedBuffer keeps the first limit bytes written to it and counts the
// rest. It never fails a write, so the program is not stopped by a broken
// pipe when it prints more than is kept.
type cappedBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped int64
}

// Write keeps what fits and drops the rest.
func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += int64(len(p) - room)
	return len(p), nil
}

// Bytes returns what was kept, followed by a note when output was dropped.
func (c *cappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]byte(nil), c.buf...)
	if c.dropped > 0 {
		out = fmt.Appendf(out, "\n[omex: %d more bytes of output dropped after the first %d]\n", c.dropped, c.limit)
	}
	return out
}

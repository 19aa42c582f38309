//go:build linux || darwin || freebsd

package exe

import (
	"os"
	"syscall"
)

// mapRegion maps n bytes of f at off read-only. The mapping starts at the
// page boundary at or below off, so it works whatever the page size; if
// the system refuses to map (some file systems do), the bytes are read
// into memory instead.
func mapRegion(f *os.File, off, n int64) ([]byte, func() error, bool, error) {
	if n == 0 {
		return nil, func() error { return nil }, false, nil
	}
	page := int64(os.Getpagesize())
	start := off - off%page
	mem, err := syscall.Mmap(int(f.Fd()), start, int(n+off-start), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readRegion(f, off, n, f.Name())
	}
	return mem[off-start:], func() error { return syscall.Munmap(mem) }, true, nil
}

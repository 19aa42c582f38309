//go:build !(linux || darwin || freebsd)

package exe

import "os"

// mapRegion reads n bytes of f at off into memory: this system has no
// mapping the program uses (syscall.Mmap is used on linux, darwin and
// freebsd).
func mapRegion(f *os.File, off, n int64) ([]byte, func() error, bool, error) {
	return readRegion(f, off, n, f.Name())
}

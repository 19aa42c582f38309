//go:build unix

package agent

import (
	"os"
	"strconv"
	"syscall"
)

// openNoFollow opens path read-only, refusing a symlink as its last
// component and not blocking on a FIFO (which Stat then refuses).
func openNoFollow(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openedPath is the path the kernel says f was opened at (Linux's
// /proc/self/fd); ok is false where that is not available.
func openedPath(f *os.File) (string, bool) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	return p, err == nil
}

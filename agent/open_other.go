//go:build !unix

package agent

import "os"

// openNoFollow opens path read-only; without O_NOFOLLOW here, the
// symlink check before the open is the only one.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

// openedPath is not available on this platform.
func openedPath(f *os.File) (string, bool) { return "", false }

//go:build !(linux && (amd64 || arm64))

package sandbox

import (
	"context"
	"io/fs"
	"runtime"

	"github.com/omex-dev/omex/omexerr"
)

// WorkDir is a sandbox work directory; on this platform none can be made.
type WorkDir struct {
	Path string
}

// errUnsupported is the refusal on platforms without the Linux namespaces
// and syscalls the sandbox is built from.
func errUnsupported() error {
	return omexerr.Executionf("sandbox.unavailable", "cannot set up the sandbox: it needs Linux on amd64 or arm64, this is %s/%s; the code was not run", runtime.GOOS, runtime.GOARCH)
}

// NewWorkDir refuses: there is no sandbox on this platform.
func NewWorkDir() (*WorkDir, error) { return nil, errUnsupported() }

// WriteFile refuses: there is no sandbox on this platform.
func (w *WorkDir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return errUnsupported()
}

// User reports that there is no sandbox user on this platform.
func (w *WorkDir) User() (int, bool) { return -1, false }

// Own refuses: there is no sandbox on this platform.
func (w *WorkDir) Own(path string) error { return errUnsupported() }

// Remove does nothing: no directory was made.
func (w *WorkDir) Remove() error { return nil }

// Run refuses: there is no sandbox on this platform.
func Run(ctx context.Context, wd *WorkDir, spec Spec) (*Result, error) { return nil, errUnsupported() }

// Check reports that there is no sandbox on this platform.
func Check(ctx context.Context) error { return errUnsupported() }

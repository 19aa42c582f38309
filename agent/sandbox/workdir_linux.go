//go:build linux && (amd64 || arm64)

package sandbox

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/omex-dev/omex/omexerr"
)

// Sandbox users are drawn from a range far above the ones distributions
// hand out to people (1000-60000) and to container subordinate ids
// (100000 upward in blocks of 65536), so a sandbox owns no existing file.
const (
	sandboxIDBase  = 1 << 30
	sandboxIDRange = 1 << 16
)

// WorkDir is a fresh temporary directory, the one place a sandboxed
// program may write. When this process is root, the directory belongs to a
// user id drawn for it alone, which the program runs as, so two sandboxes
// cannot touch each other's files, processes or process counts.
type WorkDir struct {
	Path       string
	switchUser bool
	uid        int
}

// NewWorkDir makes a work directory under the system's temporary
// directory. Remove it when done.
func NewWorkDir() (*WorkDir, error) {
	dir, err := os.MkdirTemp("", "omex-sandbox-")
	if err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot make a sandbox work directory").Wrap(err)
	}
	// The path must name the directory itself, not a symlink to it, for the
	// bind mount to land on what the program sees as its directory.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	w := &WorkDir{Path: dir, uid: -1}
	if os.Geteuid() == 0 {
		w.switchUser = true
		w.uid = sandboxIDBase + rand.IntN(sandboxIDRange)
		if err := os.Chown(dir, w.uid, w.uid); err != nil {
			os.RemoveAll(dir)
			return nil, omexerr.Resourcef("resource.io", "cannot give the sandbox work directory to its user").WithFile(dir).Wrap(err)
		}
	}
	return w, nil
}

// WriteFile writes a file the program will find in its directory, owned
// by the program's user. name is relative to the directory.
func (w *WorkDir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	if !filepath.IsLocal(name) {
		return omexerr.Inputf("input.bad_path", "%q is not a path inside the work directory", name)
	}
	p := filepath.Join(w.Path, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return omexerr.Resourcef("resource.io", "cannot write").WithFile(p).Wrap(err)
	}
	if err := os.WriteFile(p, data, perm); err != nil {
		return omexerr.Resourcef("resource.io", "cannot write").WithFile(p).Wrap(err)
	}
	if w.switchUser {
		if err := chownTree(w.Path, filepath.Dir(p), w.uid); err != nil {
			return err
		}
		if err := os.Chown(p, w.uid, w.uid); err != nil {
			return omexerr.Resourcef("resource.io", "cannot give a file to the sandbox user").WithFile(p).Wrap(err)
		}
	}
	return nil
}

// User returns the user id the program runs as and true when it is a user
// of its own (this process is root); otherwise -1 and false: the program
// runs as this process's user, seen as root of a user namespace.
func (w *WorkDir) User() (int, bool) { return w.uid, w.switchUser }

// Own gives path, inside the work directory, to the program's user, so
// the program can write it. It does nothing when the program runs as this
// process's user.
func (w *WorkDir) Own(path string) error {
	if !w.switchUser {
		return nil
	}
	if !within(w.Path, path) {
		return omexerr.Inputf("input.bad_path", "%s is not inside the work directory %s", path, w.Path)
	}
	if err := os.Chown(path, w.uid, w.uid); err != nil {
		return omexerr.Resourcef("resource.io", "cannot give a file to the sandbox user").WithFile(path).Wrap(err)
	}
	return nil
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}

// chownTree gives dir and its parents up to root to uid.
func chownTree(root, dir string, uid int) error {
	for d := dir; ; d = filepath.Dir(d) {
		if err := os.Chown(d, uid, uid); err != nil {
			return omexerr.Resourcef("resource.io", "cannot give a directory to the sandbox user").WithFile(d).Wrap(err)
		}
		if d == root || len(d) <= len(root) {
			return nil
		}
	}
}

// Remove deletes the directory and everything the program left in it. As
// a non-root user it first restores the owner's permissions, which the
// program may have taken away from its own directories.
func (w *WorkDir) Remove() error {
	if err := os.RemoveAll(w.Path); err == nil {
		return nil
	}
	filepath.WalkDir(w.Path, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(w.Path); err != nil {
		return omexerr.Resourcef("resource.io", "cannot remove the sandbox work directory").WithFile(w.Path).Wrap(err)
	}
	return nil
}

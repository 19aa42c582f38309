package sandbox

import (
	"os"
	"path/filepath"

	"github.com/omex-dev/omex/omexerr"
)

// FindProgram finds name on PATH as the sandbox will run it: the resolved
// path of a regular executable file. When this process is root the program
// runs as an unprivileged user, so only a program that user can reach is
// taken: executable by others, in directories others may enter (this skips,
// for example, a pyenv shim under /root in favour of /usr/bin/python3).
// The error is an ExecutionError naming the program.
func FindProgram(name string) (string, error) {
	asRoot := os.Geteuid() == 0
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // a relative PATH entry depends on the current directory
		}
		real, err := filepath.EvalSymlinks(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		st, err := os.Stat(real)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		if asRoot && !reachableByOthers(real, st) {
			continue
		}
		return real, nil
	}
	return "", omexerr.Executionf("sandbox.no_program", "%s is not installed (not found on PATH as an executable the sandbox user can run)", name)
}

// reachableByOthers reports whether a user with no relation to the file's
// owner can execute the file at path.
func reachableByOthers(path string, st os.FileInfo) bool {
	if st.Mode().Perm()&0o001 == 0 {
		return false
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		ds, err := os.Stat(d)
		if err != nil || ds.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

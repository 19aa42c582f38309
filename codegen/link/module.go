package link

import (
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/omex-dev/omex"
	"github.com/omex-dev/omex/omexerr"
)

// runtimeFiles returns the runtime-side sources embedded in omexc (package
// omex), keyed by slash path: tensor, omexerr and runtime, without test
// files and testdata, which a build never needs.
func runtimeFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(omex.RuntimeSource, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if p == "go.mod" || p == "go.sum" || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := omex.RuntimeSource.ReadFile(p)
		if err != nil {
			return err
		}
		files[p] = b
		return nil
	})
	return files, err
}

// buildModule is the Go module a build runs in: every file by slash path,
// go.mod and go.sum included.
type buildModule map[string][]byte

// newBuildModule joins the runtime sources, the generated files (they win
// over runtime files of the same path) and a go.mod/go.sum that require
// exactly the modules those files import, at omexc's own versions.
func newBuildModule(generated map[string][]byte) (buildModule, error) {
	files, err := runtimeFiles()
	if err != nil {
		return nil, omexerr.Configf("build.embedded_source", "omexc's embedded runtime source cannot be read").Wrap(err)
	}
	for p, b := range generated {
		files[path.Clean(p)] = b
	}
	gm, err := omex.RuntimeSource.ReadFile("go.mod")
	if err != nil {
		return nil, omexerr.Configf("build.embedded_source", "omexc carries no go.mod").Wrap(err)
	}
	mod, err := parseGoMod(string(gm))
	if err != nil {
		return nil, omexerr.Configf("build.embedded_source", "omexc's embedded go.mod cannot be read").Wrap(err)
	}
	needed, err := importedModules(files, mod)
	if err != nil {
		return nil, err
	}
	sum, err := omex.RuntimeSource.ReadFile("go.sum")
	if err != nil {
		return nil, omexerr.Configf("build.embedded_source", "omexc carries no go.sum").Wrap(err)
	}
	files["go.mod"] = []byte(mod.render(needed))
	files["go.sum"] = []byte(mod.filterGoSum(string(sum), needed))
	return files, nil
}

// importedModules returns the required modules the Go files import, and
// checks that every import of our own module names a package the build
// module holds.
func importedModules(files map[string][]byte, mod *goMod) ([]string, error) {
	dirs := map[string]bool{}
	for p := range files {
		dirs[path.Dir(p)] = true
	}
	seen := map[string]bool{}
	var mods []string
	fset := token.NewFileSet()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(p, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, files[p], parser.ImportsOnly)
		if err != nil {
			return nil, omexerr.Configf("build.bad_source", "a source file of the build does not parse").WithFile(p).Wrap(err)
		}
		for _, is := range f.Imports {
			ip, _ := strconv.Unquote(is.Path.Value)
			first, _, _ := strings.Cut(ip, "/")
			switch {
			case ip == mod.Module || strings.HasPrefix(ip, mod.Module+"/"):
				if dir := strings.TrimPrefix(strings.TrimPrefix(ip, mod.Module), "/"); !dirs[cmpDir(dir)] {
					return nil, omexerr.Configf("build.missing_package", "%s imports %s, which the build module does not hold (it is not runtime-side code)", p, ip).WithFile(p)
				}
			case !strings.Contains(first, "."):
				// The standard library (and "C").
			default:
				m, ok := mod.moduleOf(ip)
				if !ok {
					return nil, omexerr.Configf("build.missing_module", "%s imports %s, which omexc's go.mod does not require", p, ip).WithFile(p)
				}
				if !seen[m] {
					seen[m] = true
					mods = append(mods, m)
				}
			}
		}
	}
	slices.Sort(mods)
	return mods, nil
}

// cmpDir maps a package directory relative to the module root to the form
// path.Dir gives files in it ("." for the root).
func cmpDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// write writes the module's files under dir.
func (m buildModule) write(dir string) error {
	for _, p := range slices.Sorted(maps.Keys(m)) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return omexerr.Resourcef("resource.io", "cannot write the build directory").WithFile(full).Wrap(err)
		}
		if err := os.WriteFile(full, m[p], 0o644); err != nil {
			return omexerr.Resourcef("resource.io", "cannot write the build directory").WithFile(full).Wrap(err)
		}
	}
	return nil
}

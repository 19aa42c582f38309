package link

import (
	"fmt"
	"slices"
	"strings"
)

// goMod is what the build module's go.mod needs from omexc's own: the
// module path, the go line, and the required modules with the versions
// omexc was built with.
type goMod struct {
	Module   string
	Go       string            // e.g. "1.26.0"
	Requires map[string]string // module path -> version
}

// parseGoMod reads the module, go and require directives of a go.mod (the
// one embedded in omexc, so it is well formed; anything it does not
// understand is an error rather than a guess).
func parseGoMod(text string) (*goMod, error) {
	m := &goMod{Requires: map[string]string{}}
	inRequire := false
	for i, line := range strings.Split(text, "\n") {
		if j := strings.Index(line, "//"); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire && len(f) == 2:
			m.Requires[f[0]] = f[1]
		case f[0] == "module" && len(f) == 2:
			m.Module = f[1]
		case f[0] == "go" && len(f) == 2:
			m.Go = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) == 3:
			m.Requires[f[1]] = f[2]
		case f[0] == "toolchain" || f[0] == "exclude" || f[0] == "retract" || f[0] == "godebug":
			// Not needed by the build module.
		default:
			return nil, fmt.Errorf("go.mod line %d: cannot read %q", i+1, strings.TrimSpace(line))
		}
	}
	if m.Module == "" || m.Go == "" {
		return nil, fmt.Errorf("go.mod has no module or go line")
	}
	return m, nil
}

// moduleOf returns the required module that provides package path, the
// longest module path that is a prefix of it on a path boundary.
func (m *goMod) moduleOf(path string) (string, bool) {
	best := ""
	for mod := range m.Requires {
		if (path == mod || strings.HasPrefix(path, mod+"/")) && len(mod) > len(best) {
			best = mod
		}
	}
	return best, best != ""
}

// render writes the build module's go.mod requiring only mods.
func (m *goMod) render(mods []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n", m.Module, m.Go)
	if len(mods) > 0 {
		b.WriteString("\nrequire (\n")
		for _, mod := range slices.Sorted(slices.Values(mods)) {
			fmt.Fprintf(&b, "\t%s %s\n", mod, m.Requires[mod])
		}
		b.WriteString(")\n")
	}
	return b.String()
}

// filterGoSum keeps the go.sum lines of the given modules at their
// required versions (the module's hash and its go.mod's hash).
func (m *goMod) filterGoSum(sum string, mods []string) string {
	var b strings.Builder
	for _, line := range strings.Split(sum, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		for _, mod := range mods {
			v := m.Requires[mod]
			if f[0] == mod && (f[1] == v || f[1] == v+"/go.mod") {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}

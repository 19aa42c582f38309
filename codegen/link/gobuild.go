package link

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/targets"
)

// GoBuildFlags are the flags of every build: no file paths (-trimpath) and
// no VCS stamp or build ID in the binary, no symbol tables, so the same
// sources always give the same bytes.
var GoBuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// MinGoVersion is the oldest Go toolchain that builds the runtime's source
// (the go line of omexc's go.mod, which the build module repeats).
const MinGoVersion = "go1.26"

// controlledEnv are the variables that change what go build produces; the
// build sets them itself (or clears them) so the user's environment cannot
// make two builds differ.
var controlledEnv = []string{
	"GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOWORK", "GOEXPERIMENT",
	"GOAMD64", "GOARM64", "GOARM", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM", "GOLOONG64",
}

// buildEnv is the environment of go build for target t: the user's (the
// module cache, proxy and build cache stay theirs) without controlledEnv,
// plus the target's platform and level, no cgo, read-only go.mod, no
// workspace.
func buildEnv(t targets.Target) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		controlled := false
		for _, c := range controlledEnv {
			controlled = controlled || k == c
		}
		if !controlled {
			env = append(env, kv)
		}
	}
	env = append(env, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	return append(env, t.BuildEnv()...)
}

// goBuild runs `go build` in dir for target t, writing the program to out.
func goBuild(ctx context.Context, goCmd, dir, out string, t targets.Target) error {
	if goCmd == "" {
		goCmd = "go"
	}
	bin, err := exec.LookPath(goCmd)
	if err != nil {
		return omexerr.Configf("build.no_go", "omexc build needs the Go toolchain (%s or newer) on the PATH to build executables; install it from https://go.dev/dl", MinGoVersion).Wrap(err)
	}
	args := append(append([]string{"build"}, GoBuildFlags...), "-o", out, ".")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = buildEnv(t)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return omexerr.Executionf("build.cancelled", "the build was cancelled").Wrap(ctx.Err())
		}
		msg := strings.TrimSpace(output.String())
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return omexerr.Configf("build.no_go", "cannot run %s", bin).Wrap(err)
		}
		if strings.Contains(msg, "requires go >=") || strings.Contains(msg, "toolchain") {
			return omexerr.Configf("build.go_too_old", "the Go toolchain at %s cannot build the runtime (it needs %s or newer):\n%s", bin, MinGoVersion, msg)
		}
		return omexerr.Executionf("build.go_build", "go build for %s failed:\n%s", t, msg)
	}
	return nil
}

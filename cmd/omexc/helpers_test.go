package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// omexcBin is the omexc binary TestMain builds for the tests to run.
var omexcBin string

// TestMain builds omexc once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "omexc-cli")
	if err != nil {
		panic(err)
	}
	omexcBin = filepath.Join(dir, "omexc")
	if out, err := exec.Command("go", "build", "-o", omexcBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// omexc runs the binary in dir, in the test's own environment, and returns
// stdout, stderr and exit status.
func omexc(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(omexcBin, args...)
	cmd.Dir = dir
	return runCaptured(t, cmd)
}

// omexcEnv runs omexcCmd and returns stdout, stderr and exit status.
func omexcEnv(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runCaptured(t, omexcCmd(t, dir, env, args...))
}

// omexcCmd is the omexc command in dir with HOME set to a fresh directory
// unless env sets it (so no real ~/.omex/config.toml is read), no inherited
// OMEX_* variables, and env added.
func omexcCmd(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(omexcBin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMEX_") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	hasHome := false
	for _, kv := range env {
		hasHome = hasHome || strings.HasPrefix(kv, "HOME=")
	}
	if !hasHome {
		cmd.Env = append(cmd.Env, "HOME="+t.TempDir())
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// runCaptured runs cmd and returns its stdout, stderr and exit status; a
// failure to start it fails the test.
func runCaptured(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

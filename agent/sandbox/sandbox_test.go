//go:build linux && (amd64 || arm64)

package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// python finds python3 as the sandbox runs it, or skips the test.
func python(t *testing.T) string {
	t.Helper()
	p, err := FindProgram("python3")
	if err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	return p
}

// runPython runs code as main.py in a fresh sandbox and returns the result
// and the work directory (removed at the end of the test).
func runPython(t *testing.T, code string, spec Spec) (*Result, *WorkDir) {
	t.Helper()
	py := python(t)
	wd, err := NewWorkDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wd.Remove() })
	if err := wd.WriteFile("main.py", []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	spec.Argv = []string{py, "-I", "main.py"}
	spec.Env = append(spec.Env, "HOME="+wd.Path, "TMPDIR="+wd.Path)
	res, err := Run(context.Background(), wd, spec)
	if err != nil {
		t.Fatal(err)
	}
	return res, wd
}

func TestCheck(t *testing.T) {
	if err := Check(context.Background()); err != nil {
		t.Fatalf("the sandbox cannot be set up on this machine: %v", err)
	}
}

// The program runs with no capabilities, no_new_privs, as PID 1 of its own
// PID namespace, as a user other than ours when we are root, in its work
// directory, and sees only a loopback interface.
func TestIdentity(t *testing.T) {
	res, wd := runPython(t, `
import os, socket
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
print("uid", os.getuid())
print("pid", os.getpid())
print("capeff", status["CapEff"].strip())
print("capbnd", status["CapBnd"].strip())
print("nonewprivs", status["NoNewPrivs"].strip())
print("cwd", os.getcwd())
print("ifaces", ",".join(n for _, n in socket.if_nameindex()))
print("procs", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
`, Spec{})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		got[k] = v
	}
	want := map[string]string{
		"pid": "1", "capeff": "0000000000000000", "capbnd": "0000000000000000",
		"nonewprivs": "1", "cwd": wd.Path, "ifaces": "lo", "procs": "[1]",
	}
	if os.Geteuid() == 0 {
		want["uid"] = strconv.Itoa(wd.uid)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (output %s)", k, got[k], v, res.Stdout)
		}
	}
}

// When the program cannot be started the sandbox says so as an
// ExecutionError; nothing runs.
func TestSetupFailureIsAnError(t *testing.T) {
	wd, err := NewWorkDir()
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Remove()
	_, err = Run(context.Background(), wd, Spec{Argv: []string{"/nonexistent/interpreter"}})
	if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Execution || e.Code != "sandbox.unavailable" {
		t.Fatalf("got %v, want an ExecutionError sandbox.unavailable", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/interpreter") {
		t.Errorf("the error does not name the program: %v", err)
	}

	gone := &WorkDir{Path: filepath.Join(wd.Path, "missing"), switchUser: wd.switchUser, uid: wd.uid}
	_, err = Run(context.Background(), gone, Spec{Argv: []string{python(t), "-c", "print(1)"}})
	if e, ok := omexerr.As(err); !ok || e.Code != "sandbox.unavailable" {
		t.Fatalf("a missing work directory: got %v, want sandbox.unavailable", err)
	}
}

// A timed-out program is killed with every process it started, even one
// that left the process group.
func TestTimeoutKillsEverything(t *testing.T) {
	start := time.Now()
	res, wd := runPython(t, `
import os, time
if os.fork() == 0:
    os.setsid()
    while True: time.sleep(1)
while True: pass
`, Spec{Timeout: time.Second})
	if !res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("got %+v, want a timeout", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v, want about 1s", d)
	}
	if os.Geteuid() != 0 {
		return // the sandbox user is ours; its processes cannot be told apart
	}
	if pids := processesOf(wd.uid); len(pids) > 0 {
		t.Errorf("processes of the sandbox user still run after the timeout: %v", pids)
	}
}

// processesOf lists the host's processes whose real uid is uid.
func processesOf(uid int) []string {
	var pids []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		status, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == strconv.Itoa(uid) {
				pids = append(pids, d.Name())
			}
		}
	}
	return pids
}

// The rlimits are in force in the program, as /proc/self/limits shows
// them: CPU one second above the timeout (hard limit one more), data
// memory, file size, processes, and no core dumps.
func TestLimitsApplied(t *testing.T) {
	res, _ := runPython(t, `print(open("/proc/self/limits").read())`, Spec{
		Timeout: 5 * time.Second, MemoryBytes: 100 << 20, FileSizeBytes: 3 << 20, MaxProcs: 17,
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	want := map[string][2]string{
		"Max cpu time":       {"6", "7"},
		"Max data size":      {"104857600", "104857600"},
		"Max file size":      {"3145728", "3145728"},
		"Max processes":      {"17", "17"},
		"Max core file size": {"0", "0"},
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		for name, w := range want {
			if strings.HasPrefix(line, name+" ") {
				f := strings.Fields(strings.TrimPrefix(line, name))
				if len(f) < 2 || f[0] != w[0] || f[1] != w[1] {
					t.Errorf("%s: got %q, want soft %s hard %s", name, line, w[0], w[1])
				}
				delete(want, name)
			}
		}
	}
	for name := range want {
		t.Errorf("%s is missing from /proc/self/limits:\n%s", name, res.Stdout)
	}
}

func TestOutputIsCapped(t *testing.T) {
	res, _ := runPython(t, `print("x" * 100000)`, Spec{OutputLimit: 1000})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	if len(res.Stdout) > 1200 || !strings.Contains(string(res.Stdout), "99001 more bytes of output dropped") {
		t.Errorf("stdout of %d bytes, tail %q", len(res.Stdout), res.Stdout[max(0, len(res.Stdout)-100):])
	}
}

func TestFileSizeLimit(t *testing.T) {
	res, _ := runPython(t, `
try:
    open("big", "wb").write(b"x" * (2 << 20))
    print("wrote")
except OSError as e:
    print("refused", e.errno)
`, Spec{FileSizeBytes: 1 << 20})
	if got := strings.TrimSpace(string(res.Stdout)); got != "refused 27" { // EFBIG
		t.Errorf("got %q (stderr %s), want the write refused with EFBIG", got, res.Stderr)
	}
}

func TestCancel(t *testing.T) {
	py := python(t)
	wd, err := NewWorkDir()
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Remove()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err = Run(ctx, wd, Spec{Argv: []string{py, "-c", "while True: pass"}, Timeout: 30 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped %v after the cancel", d)
	}
}

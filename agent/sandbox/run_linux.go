//go:build linux && (amd64 || arm64)

package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// Run runs spec.Argv in the sandbox with wd as its only writable directory
// (also its HOME and TMPDIR when spec.Env says so) and waits for it. A
// program that fails, crashes or times out is a Result, not an error; an
// error means the sandbox could not be set up (an ExecutionError, and the
// program did not run) or ctx was cancelled (the program was killed).
func Run(ctx context.Context, wd *WorkDir, spec Spec) (*Result, error) {
	if len(spec.Argv) == 0 || !filepath.IsAbs(spec.Argv[0]) {
		return nil, omexerr.Executionf("sandbox.bad_spec", "the sandboxed program must be an absolute path, got %q", spec.Argv)
	}
	return run(ctx, wd, spec.withDefaults(), false)
}

// Check sets up a complete sandbox without running anything in it, to tell
// early whether Run can work on this machine. It returns the ExecutionError
// Run would return, or nil.
func Check(ctx context.Context) error {
	wd, err := NewWorkDir()
	if err != nil {
		return err
	}
	defer wd.Remove()
	_, err = run(ctx, wd, Spec{Timeout: 10 * time.Second}.withDefaults(), true)
	return err
}

// run starts the helper in new namespaces, learns from the status pipe
// whether the setup worked, and waits for the program.
func run(ctx context.Context, wd *WorkDir, spec Spec, probe bool) (*Result, error) {
	if ctx.Err() != nil {
		return nil, omexerr.Executionf("sandbox.cancelled", "the sandboxed program was not started").Wrap(ctx.Err())
	}
	cpu := uint64((spec.Timeout+time.Second-1)/time.Second) + 1
	hs := helperSpec{
		Dir:           wd.Path,
		Argv:          spec.Argv,
		Env:           spec.Env,
		SwitchUser:    wd.switchUser,
		UID:           wd.uid,
		GID:           wd.uid,
		CPUSeconds:    cpu,
		DataBytes:     uint64(spec.MemoryBytes),
		FileSizeBytes: uint64(spec.FileSizeBytes),
		MaxProcs:      uint64(spec.MaxProcs),
		Probe:         probe,
	}
	raw, err := json.Marshal(hs)
	if err != nil {
		return nil, unavailable("encode the sandbox spec", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, unavailable("make the status pipe", err)
	}
	defer statusR.Close()

	runCtx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "/proc/self/exe")
	cmd.Args = []string{helperArg0}
	cmd.Env = []string{helperEnv + "=" + string(raw)}
	cmd.Dir = "/"
	stdout := &cappedBuffer{limit: spec.OutputLimit}
	stderr := &cappedBuffer{limit: spec.OutputLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = []*os.File{statusW}
	cmd.SysProcAttr = namespaceAttr(wd.switchUser)
	// Killing the process group's leader, the namespace's init, makes the
	// kernel kill every other process in the PID namespace too. killed
	// records that we did it, so a program that ends on its own just as
	// the deadline passes is not reported as timed out.
	var killed atomic.Bool
	cmd.Cancel = func() error {
		killed.Store(true)
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		statusW.Close()
		return nil, unavailable("start the sandbox helper in new namespaces", err)
	}
	statusW.Close()
	msg, _ := io.ReadAll(io.LimitReader(statusR, 4096))
	waitErr := cmd.Wait()
	elapsed := time.Since(start)
	if len(msg) > 0 {
		return nil, unavailable(string(msg), nil)
	}
	if ctx.Err() != nil {
		return nil, omexerr.Executionf("sandbox.cancelled", "the sandboxed program was stopped").Wrap(ctx.Err())
	}
	state := cmd.ProcessState
	if state == nil {
		return nil, unavailable("wait for the sandbox helper", waitErr)
	}
	if probe {
		if !state.Success() {
			return nil, unavailable(fmt.Sprintf("the sandbox probe ended with %v", state), nil)
		}
		return &Result{Duration: elapsed}, nil
	}
	res := &Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: elapsed}
	ws := state.Sys().(syscall.WaitStatus)
	switch {
	case ws.Exited():
		res.ExitCode = ws.ExitStatus()
	case ws.Signaled():
		res.ExitCode = 128 + int(ws.Signal())
	}
	cpuUsed := state.UserTime() + state.SystemTime()
	killedForCPU := ws.Signaled() && (ws.Signal() == syscall.SIGXCPU ||
		(ws.Signal() == syscall.SIGKILL && cpuUsed >= time.Duration(cpu)*time.Second))
	if killed.Load() || killedForCPU {
		res.TimedOut = true
		res.ExitCode = -1
	}
	return res, nil
}

// namespaceAttr is the helper's process attributes: new network, mount,
// PID and IPC namespaces, its own process group, and death with its
// parent. A parent that is not root also gets a user namespace in which it
// is uid 0, which is what lets it create the others.
func namespaceAttr(asRoot bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if !asRoot {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	return attr
}

// unavailable is the error for a sandbox that could not be set up: the
// program was not run.
func unavailable(step string, err error) *omexerr.Error {
	e := omexerr.Executionf("sandbox.unavailable", "cannot set up the sandbox (%s); the code was not run", step)
	if err != nil {
		e = e.Wrap(err)
	}
	return e
}

//go:build linux && (amd64 || arm64)

package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// The helper is this binary re-executed with argv[0] helperArg0 and its
// instructions in the helperEnv variable. Both must be present, so a normal
// run of the binary never takes this path by accident.
const (
	helperArg0 = "omex-sandbox-helper"
	helperEnv  = "OMEX_SANDBOX_HELPER_SPEC"
	// statusFD is the pipe on which the helper reports a failed setup step.
	// It is close-on-exec, so the parent reads end-of-file with no data
	// exactly when the program was started (or the probe succeeded).
	statusFD = 3
	// setupFailed is the helper's exit status after a failed setup step.
	setupFailed = 125
)

// helperSpec is what the parent tells the helper.
type helperSpec struct {
	Dir           string
	Argv          []string
	Env           []string
	SwitchUser    bool // true: become UID/GID (parent is root); false: stay uid 0 of a user namespace, without capabilities
	UID, GID      int
	CPUSeconds    uint64
	DataBytes     uint64
	FileSizeBytes uint64
	MaxProcs      uint64
	Probe         bool // set everything up, then exit 0 instead of running Argv
}

func init() {
	if len(os.Args) != 1 || os.Args[0] != helperArg0 {
		return
	}
	raw, ok := os.LookupEnv(helperEnv)
	if !ok {
		return
	}
	runHelper(raw)
}

// runHelper sets up the sandbox from inside the new namespaces and then
// replaces itself with the program. It never returns.
func runHelper(raw string) {
	// Thread attributes (no_new_privs, the bounding set, the parent-death
	// signal) must be set on the thread that calls execve.
	runtime.LockOSThread()
	status := os.NewFile(statusFD, "sandbox-status")
	syscall.CloseOnExec(statusFD)
	fail := func(step string, err error) {
		fmt.Fprintf(status, "%s: %v", step, err)
		os.Exit(setupFailed)
	}
	var s helperSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		fail("read the sandbox spec", err)
	}
	if err := isolateFiles(s.Dir); err != nil {
		fail("isolate the file system", err)
	}
	if err := syscall.Chdir(s.Dir); err != nil {
		fail("enter the working directory", err)
	}
	if err := setLimits(&s); err != nil {
		fail("set resource limits", err)
	}
	if err := dropPrivileges(&s); err != nil {
		fail("drop privileges", err)
	}
	if s.Probe {
		os.Exit(0)
	}
	if len(s.Argv) == 0 {
		fail("start the program", fmt.Errorf("no program given"))
	}
	err := syscall.Exec(s.Argv[0], s.Argv, s.Env)
	fail("start "+s.Argv[0], err)
}

// isolateFiles makes this mount namespace private, mounts a /proc that
// shows only the sandbox's processes, makes every mount read-only and
// nosuid, and then makes dir alone writable again.
func isolateFiles(dir string) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := mountSetattr("/", true, mountAttrRdonly|mountAttrNosuid, 0); err != nil {
		return fmt.Errorf("make / read-only (mount_setattr, Linux 5.12+): %w", err)
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", dir, err)
	}
	if err := mountSetattr(dir, false, 0, mountAttrRdonly); err != nil {
		return fmt.Errorf("make %s writable: %w", dir, err)
	}
	return nil
}

// setLimits sets the rlimits; children inherit them across execve. The
// soft CPU limit sends SIGXCPU, which a PID namespace's init ignores, so
// the hard limit one second later sends SIGKILL.
func setLimits(s *helperSpec) error {
	limits := []struct {
		name     string
		resource int
		soft     uint64
		hard     uint64
	}{
		{"RLIMIT_CPU", syscall.RLIMIT_CPU, s.CPUSeconds, s.CPUSeconds + 1},
		{"RLIMIT_DATA", syscall.RLIMIT_DATA, s.DataBytes, s.DataBytes},
		{"RLIMIT_FSIZE", syscall.RLIMIT_FSIZE, s.FileSizeBytes, s.FileSizeBytes},
		{"RLIMIT_NPROC", rlimitNproc, s.MaxProcs, s.MaxProcs},
		{"RLIMIT_CORE", syscall.RLIMIT_CORE, 0, 0},
	}
	for _, l := range limits {
		if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: l.soft, Max: l.hard}); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}
	return nil
}

// dropPrivileges leaves the program with no capabilities and no way to
// gain any: an empty bounding set, a fresh unprivileged user when the
// parent is root (else uid 0 of a user namespace with empty capability
// sets), no_new_privs, and a parent-death signal (which a uid change
// clears, so it is set again here).
func dropPrivileges(s *helperSpec) error {
	if err := dropBoundingSet(); err != nil {
		return fmt.Errorf("empty the capability bounding set: %w", err)
	}
	if s.SwitchUser {
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setresgid(s.GID, s.GID, s.GID); err != nil {
			return fmt.Errorf("setresgid %d: %w", s.GID, err)
		}
		if err := syscall.Setresuid(s.UID, s.UID, s.UID); err != nil {
			return fmt.Errorf("setresuid %d: %w", s.UID, err)
		}
	} else if err := clearCapabilities(); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := prctl(prSetNoNewPrivs, 1); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := prctl(prSetPdeathsig, uintptr(syscall.SIGKILL)); err != nil {
		return fmt.Errorf("parent-death signal: %w", err)
	}
	return nil
}

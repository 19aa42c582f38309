// Package sandbox runs an untrusted program in an isolated child process:
// its own network namespace with only a loopback interface (left down, so
// no address is reachable), its own mount namespace in which every mount is
// read-only except its working directory, its own PID and IPC namespaces,
// rlimits on CPU time, data memory, file size and processes, no
// capabilities, no_new_privs, and a wall-clock timeout that kills the whole
// namespace. When any of that cannot be set up the program does not run:
// Run returns an ExecutionError. It never falls back to running unsandboxed.
//
// The isolation is set up by a helper: the running binary re-executed as
// /proc/self/exe in the new namespaces. The helper is recognized in this
// package's init function (see helper_linux.go), so any binary that links
// this package can sandbox without changes to its main.
package sandbox

import (
	"time"
)

// Spec is one program to run in the sandbox.
type Spec struct {
	// Argv is the program (an absolute path, see FindProgram) and its
	// arguments.
	Argv []string
	// Env is the program's whole environment; nothing is inherited.
	Env []string
	// Timeout is the wall-clock limit. The CPU-time rlimit is set one second
	// above it so a busy program is stopped even if the timer were missed.
	Timeout time.Duration
	// MemoryBytes is RLIMIT_DATA: the program's heap, anonymous mappings and
	// other private writable memory. RLIMIT_AS is not used because V8 and the
	// Go runtime reserve gigabytes of address space they never touch.
	MemoryBytes int64
	// FileSizeBytes is RLIMIT_FSIZE: the largest file the program may write.
	FileSizeBytes int64
	// MaxProcs is RLIMIT_NPROC: processes and threads of the sandbox's user.
	// Each WorkDir has its own user, so sandboxes do not share this count.
	MaxProcs int
	// OutputLimit caps what is kept of stdout and of stderr, in bytes; the
	// rest is read and dropped, and a note says so.
	OutputLimit int
}

// Result is how a sandboxed program ended.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int // the exit status; 128+N when killed by signal N; -1 when timed out
	TimedOut bool
	Duration time.Duration
}

// Defaults used when a Spec leaves a limit at zero.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMemoryBytes   = 256 << 20
	DefaultFileSizeBytes = 16 << 20
	DefaultMaxProcs      = 64
	DefaultOutputLimit   = 1 << 20
)

// withDefaults returns s with zero limits replaced by the defaults.
func (s Spec) withDefaults() Spec {
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MemoryBytes <= 0 {
		s.MemoryBytes = DefaultMemoryBytes
	}
	if s.FileSizeBytes <= 0 {
		s.FileSizeBytes = DefaultFileSizeBytes
	}
	if s.MaxProcs <= 0 {
		s.MaxProcs = DefaultMaxProcs
	}
	if s.OutputLimit <= 0 {
		s.OutputLimit = DefaultOutputLimit
	}
	return s
}

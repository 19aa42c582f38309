package agent

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/omex-dev/omex/agent/sandbox"
	"github.com/omex-dev/omex/omexerr"
)

// Defaults for a ToolConfig that leaves the code limits at zero: the
// [security] section's documented defaults.
const (
	defaultCodeTimeout  = 10 * time.Second
	defaultCodeMemoryMB = 256
)

// Limits of the Go compile step, which runs before the snippet's own
// limits apply: a cold build of a program using fmt compiles about forty
// standard packages, taking tens of seconds and ~300 MB per compiler.
const (
	goBuildTimeout   = 180 * time.Second
	goBuildMemory    = 2 << 30
	goBuildProcs     = 1024
	goBuildFileBytes = 512 << 20
)

// codeInterpreter is the code_interpreter tool: it runs a Python,
// JavaScript or Go snippet in the sandbox and returns what it printed.
type codeInterpreter struct {
	timeout  time.Duration
	memory   int64
	required bool
}

// codeInput is code_interpreter's input.
type codeInput struct {
	Language string `json:"language"`
	Code     string `json:"code"`
}

// codeOutput is code_interpreter's answer. ExitCode is 128+N for a snippet
// killed by signal N and -1 for one stopped at its time limit; for Go, a
// failed compile gives the compiler's status and messages. DurationMS is
// the whole call; CompileMS the Go compile step within it.
type codeOutput struct {
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	ExitCode   int    `json:"exit_code"`
	TimedOut   bool   `json:"timed_out"`
	DurationMS int64  `json:"duration_ms"`
	CompileMS  int64  `json:"compile_ms,omitempty"`
}

// language is how one language's snippet is run.
type language struct {
	program string // looked up on PATH
	file    string // the snippet's file name in the work directory
	args    []string
}

// languages are the languages code_interpreter runs. Python runs isolated
// from user site-packages and PYTHON* variables (-I) and writes no .pyc.
var languages = map[string]language{
	"python":     {program: "python3", file: "main.py", args: []string{"-I", "-B", "main.py"}},
	"javascript": {program: "node", file: "main.js", args: []string{"main.js"}},
	"go":         {program: "go", file: "main.go"},
}

// newCodeInterpreter makes the tool with cfg's limits.
func newCodeInterpreter(cfg ToolConfig) *codeInterpreter {
	c := &codeInterpreter{timeout: cfg.CodeTimeout, memory: int64(cfg.CodeMemoryMB) << 20, required: cfg.SandboxRequired}
	if c.timeout <= 0 {
		c.timeout = defaultCodeTimeout
	}
	if c.memory <= 0 {
		c.memory = defaultCodeMemoryMB << 20
	}
	return c
}

// Name is "code_interpreter".
func (c *codeInterpreter) Name() string { return CodeInterpreterName }

// Description says what the tool does, for the agent's prompt.
func (c *codeInterpreter) Description() string {
	return `Runs a Python, JavaScript or Go program in a sandbox without network access, with time and memory limits. Input: {"language": "python"|"javascript"|"go", "code": "..."}. Output: {"stdout", "stderr", "exit_code", "timed_out", "duration_ms"}.`
}

// Preflight checks that the sandbox can be set up when the configuration
// requires it (SandboxRequired); otherwise it passes and calls refuse one
// by one.
func (c *codeInterpreter) Preflight(ctx context.Context) error {
	if !c.required {
		return nil
	}
	return sandbox.Check(ctx)
}

// Call runs the snippet. A snippet that fails, crashes or times out is an
// answer with its exit code; an error means bad input (InputError) or that
// the snippet could not be run in the sandbox (ExecutionError).
func (c *codeInterpreter) Call(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	var in codeInput
	if err := decodeInput(CodeInterpreterName, input, &in); err != nil {
		return nil, err
	}
	lang, ok := languages[in.Language]
	if !ok {
		names := make([]string, 0, len(languages))
		for n := range languages {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, omexerr.Inputf("input.tool_input", "code_interpreter: unknown language %q (want %s)", in.Language, strings.Join(names, ", "))
	}
	if strings.TrimSpace(in.Code) == "" {
		return nil, omexerr.Inputf("input.tool_input", "code_interpreter: the code is empty")
	}
	prog, err := sandbox.FindProgram(lang.program)
	if err != nil {
		return nil, omexerr.Executionf("execution.no_interpreter", "code_interpreter cannot run %s", in.Language).Wrap(err)
	}
	start := time.Now()
	wd, err := sandbox.NewWorkDir()
	if err != nil {
		return nil, err
	}
	defer wd.Remove()
	if err := wd.WriteFile(lang.file, []byte(in.Code), 0o644); err != nil {
		return nil, err
	}
	var out codeOutput
	argv := append([]string{prog}, lang.args...)
	if in.Language == "go" {
		res, err := c.buildGo(ctx, wd, prog)
		if err != nil {
			return nil, err
		}
		out.CompileMS = max(res.Duration.Milliseconds(), 1)
		if res.ExitCode != 0 || res.TimedOut {
			out.Stdout, out.Stderr = string(res.Stdout), string(res.Stderr)
			out.ExitCode, out.TimedOut = res.ExitCode, res.TimedOut
			out.DurationMS = time.Since(start).Milliseconds()
			return encodeOutput(CodeInterpreterName, out)
		}
		argv = []string{filepath.Join(wd.Path, "main")}
	}
	res, err := sandbox.Run(ctx, wd, sandbox.Spec{
		Argv:        argv,
		Env:         snippetEnv(wd.Path, prog),
		Timeout:     c.timeout,
		MemoryBytes: c.memory,
	})
	if err != nil {
		return nil, err
	}
	out.Stdout, out.Stderr = string(res.Stdout), string(res.Stderr)
	out.ExitCode, out.TimedOut = res.ExitCode, res.TimedOut
	out.DurationMS = time.Since(start).Milliseconds()
	return encodeOutput(CodeInterpreterName, out)
}

// buildGo compiles main.go into main inside the sandbox, with the build
// cache (seeded from the warm cache) and module directories in the work
// directory and no network.
func (c *codeInterpreter) buildGo(ctx context.Context, wd *sandbox.WorkDir, goCmd string) (*sandbox.Result, error) {
	warm, err := warmGoCache(ctx, goCmd)
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(wd.Path, ".cache", "go-build")
	if warm != "" {
		uid, own := wd.User()
		if !own {
			uid = -1
		}
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
			return nil, omexerr.Resourcef("resource.io", "cannot make the snippet's Go build cache").WithFile(cache).Wrap(err)
		}
		if err := wd.Own(filepath.Dir(cache)); err != nil {
			return nil, err
		}
		if err := seedGoCache(warm, cache, uid, own); err != nil {
			return nil, err
		}
	}
	return sandbox.Run(ctx, wd, sandbox.Spec{
		Argv:          []string{goCmd, "build", "-o", "main", "main.go"},
		Env:           goBuildEnv(wd.Path, cache, goCmd),
		Timeout:       goBuildTimeout,
		MemoryBytes:   goBuildMemory,
		FileSizeBytes: goBuildFileBytes,
		MaxProcs:      goBuildProcs,
	})
}

// snippetEnv is a snippet's whole environment: the work directory as HOME
// and TMPDIR, the interpreter's directory on PATH, UTF-8 text.
func snippetEnv(dir, prog string) []string {
	return []string{
		"PATH=" + filepath.Dir(prog) + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"LANG=C.UTF-8",
	}
}

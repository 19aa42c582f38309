package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omex-dev/omex/agent/sandbox"
	"github.com/omex-dev/omex/omexerr"
)

// needSandbox skips tests of running code on platforms without the sandbox.
func needSandbox(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("the code sandbox needs Linux on amd64 or arm64, this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
}

// needProgram skips the test when a language's toolchain is absent.
func needProgram(t *testing.T, name string) {
	t.Helper()
	needSandbox(t)
	if _, err := sandbox.FindProgram(name); err != nil {
		t.Skipf("%s is not installed, skipping: %v", name, err)
	}
}

// runCode calls code_interpreter and decodes its answer.
func runCode(t *testing.T, cfg ToolConfig, lang, code string) codeOutput {
	t.Helper()
	in, _ := json.Marshal(codeInput{Language: lang, Code: code})
	raw, err := newCodeInterpreter(cfg).Call(context.Background(), in)
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	var out codeOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: bad answer %s: %v", lang, raw, err)
	}
	return out
}

func TestCodeInterpreterRunsEachLanguage(t *testing.T) {
	cases := []struct{ lang, program, code string }{
		{"python", "python3", "import sys\nprint(sum(range(10)))\nprint('err', file=sys.stderr)\nsys.exit(3)\n"},
		{"javascript", "node", "console.log([...Array(10).keys()].reduce((a, b) => a + b)); console.error('err'); process.exit(3);"},
		{"go", "go", "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\ts := 0\n\tfor i := range 10 {\n\t\ts += i\n\t}\n\tfmt.Println(s)\n\tfmt.Fprintln(os.Stderr, \"err\")\n\tos.Exit(3)\n}\n"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			needProgram(t, c.program)
			if c.lang == "go" && testing.Short() {
				t.Skip("a cold Go build takes tens of seconds; skipped with -short")
			}
			out := runCode(t, ToolConfig{CodeTimeout: 10 * time.Second}, c.lang, c.code)
			if out.Stdout != "45\n" || out.Stderr != "err\n" || out.ExitCode != 3 || out.TimedOut {
				t.Errorf("got %+v, want stdout 45, stderr err, exit 3", out)
			}
			if c.lang == "go" {
				t.Logf("go: compile %d ms, total %d ms", out.CompileMS, out.DurationMS)
			}
		})
	}
}

// A Go compile error comes back as the compiler's messages and status.
func TestCodeInterpreterGoCompileError(t *testing.T) {
	needProgram(t, "go")
	if testing.Short() {
		t.Skip("a Go build takes seconds; skipped with -short")
	}
	out := runCode(t, ToolConfig{}, "go", "package main\n\nfunc main() { undefined() }\n")
	if out.ExitCode == 0 || !strings.Contains(out.Stderr, "undefined: undefined") {
		t.Errorf("got %+v, want the compiler's error", out)
	}
}

// A snippet cannot connect to a listener on the host's loopback, nor to an
// outside address, nor resolve a name; the host itself can reach the
// listener, so the test can fail.
func TestCodeInterpreterHasNoNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	if c, err := net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatalf("the host cannot reach its own listener: %v", err)
	} else {
		c.Close()
	}
	<-accepted
	port := ln.Addr().(*net.TCPAddr).Port

	t.Run("python", func(t *testing.T) {
		needProgram(t, "python3")
		out := runCode(t, ToolConfig{}, "python", `
import socket
def attempt(name, f):
    try:
        f()
        print(name, "CONNECTED")
    except OSError as e:
        print(name, "blocked", e.errno)
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", `+strconv.Itoa(port)+`), timeout=2))
attempt("outside", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
`)
		checkBlocked(t, out, "loopback", "outside", "dns")
	})
	t.Run("javascript", func(t *testing.T) {
		needProgram(t, "node")
		out := runCode(t, ToolConfig{}, "javascript", `
const net = require("net");
const dns = require("dns");
function attempt(name, host, port) {
  return new Promise(done => {
    const s = net.connect({host, port, timeout: 2000}, () => { console.log(name, "CONNECTED"); s.destroy(); done(); });
    s.on("error", e => { console.log(name, "blocked", e.code); done(); });
    s.on("timeout", () => { console.log(name, "blocked timeout"); s.destroy(); done(); });
  });
}
(async () => {
  await attempt("loopback", "127.0.0.1", `+strconv.Itoa(port)+`);
  await attempt("outside", "1.1.1.1", 53);
  await new Promise(done => dns.lookup("example.com", e => { console.log("dns", e ? "blocked " + e.code : "CONNECTED"); done(); }));
})();
`)
		checkBlocked(t, out, "loopback", "outside", "dns")
	})
	select {
	case <-accepted:
		t.Error("the listener accepted a connection from a snippet")
	default:
	}
}

// checkBlocked wants one "NAME blocked ..." line per name.
func checkBlocked(t *testing.T, out codeOutput, names ...string) {
	t.Helper()
	for _, n := range names {
		if !strings.Contains(out.Stdout, n+" blocked") {
			t.Errorf("%s was not blocked: stdout %q stderr %q", n, out.Stdout, out.Stderr)
		}
	}
}

// A snippet cannot write outside its work directory, not even into a
// world-writable directory (only the read-only mounts stop that), while
// writing in its own directory works.
func TestCodeInterpreterCannotWriteOutside(t *testing.T) {
	outside, err := os.MkdirTemp("", "omex-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	if err := os.Chmod(outside, 0o777); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "escaped.txt")
	code := map[string]string{
		"python": `
import os
for p in [` + jsonString(target) + `, "/tmp/omex-escaped.txt", "/dev/shm/omex-escaped.txt"]:
    try:
        open(p, "w").write("x")
        print(p, "WRITTEN")
    except OSError as e:
        print(p, "refused", e.errno)
open(os.path.join(os.environ["HOME"], "inside.txt"), "w").write("ok")
print("inside", open("inside.txt").read())
`,
		"javascript": `
const fs = require("fs");
for (const p of [` + jsonString(target) + `, "/tmp/omex-escaped.txt"]) {
  try { fs.writeFileSync(p, "x"); console.log(p, "WRITTEN"); } catch (e) { console.log(p, "refused", e.code); }
}
fs.writeFileSync("inside.txt", "ok");
console.log("inside", fs.readFileSync("inside.txt", "utf8"));
`,
	}
	for lang, prog := range map[string]string{"python": "python3", "javascript": "node"} {
		t.Run(lang, func(t *testing.T) {
			needProgram(t, prog)
			out := runCode(t, ToolConfig{}, lang, code[lang])
			if strings.Contains(out.Stdout, "WRITTEN") || !strings.Contains(out.Stdout, target+" refused") {
				t.Errorf("a write outside was not refused: %q %q", out.Stdout, out.Stderr)
			}
			if !strings.Contains(out.Stdout, "inside ok") {
				t.Errorf("writing in the work directory failed: %q %q", out.Stdout, out.Stderr)
			}
			for _, p := range []string{target, "/tmp/omex-escaped.txt", "/dev/shm/omex-escaped.txt"} {
				if _, err := os.Stat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s exists after the snippet ran", p)
				}
			}
		})
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// An endless loop is stopped at the time limit and reported as timed out.
func TestCodeInterpreterTimeout(t *testing.T) {
	for lang, c := range map[string][2]string{
		"python":     {"python3", "while True:\n    pass\n"},
		"javascript": {"node", "for (;;) {}"},
	} {
		t.Run(lang, func(t *testing.T) {
			needProgram(t, c[0])
			start := time.Now()
			out := runCode(t, ToolConfig{CodeTimeout: time.Second}, lang, c[1])
			if !out.TimedOut || out.ExitCode != -1 {
				t.Errorf("got %+v, want timed_out", out)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("stopped after %v, limit 1s", d)
			}
		})
	}
}

// Allocating 1 GiB under a 128 MiB limit fails; 16 MiB works.
func TestCodeInterpreterMemoryLimit(t *testing.T) {
	cfg := ToolConfig{CodeMemoryMB: 128, CodeTimeout: 20 * time.Second}
	t.Run("python", func(t *testing.T) {
		needProgram(t, "python3")
		out := runCode(t, cfg, "python", "a = bytearray(16 << 20)\nprint('small ok')\nb = bytearray(1 << 30)\nprint('BIG ALLOCATED', len(b))\n")
		if !strings.Contains(out.Stdout, "small ok") || strings.Contains(out.Stdout, "BIG ALLOCATED") || !strings.Contains(out.Stderr, "MemoryError") || out.ExitCode == 0 {
			t.Errorf("got %+v, want 16 MiB to work and 1 GiB to fail with MemoryError", out)
		}
	})
	t.Run("javascript", func(t *testing.T) {
		needProgram(t, "node")
		out := runCode(t, cfg, "javascript", "const a = Buffer.alloc(16 << 20, 1); console.log('small ok');\nconst b = Buffer.alloc(1 << 30, 1); console.log('BIG ALLOCATED', b.length);\n")
		if !strings.Contains(out.Stdout, "small ok") || strings.Contains(out.Stdout, "BIG ALLOCATED") || out.ExitCode == 0 {
			t.Errorf("got %+v, want 16 MiB to work and 1 GiB to fail", out)
		}
	})
}

func TestCodeInterpreterBadInput(t *testing.T) {
	ci := newCodeInterpreter(ToolConfig{})
	for _, in := range []string{
		`{"language": "cobol", "code": "x"}`,
		`{"language": "python", "code": "   "}`,
		`{"language": "python", "code": "print(1)", "extra": 1}`,
		`{"language": "python"`,
		`{"language": "python", "code": "print(1)"} {}`,
		`[]`,
	} {
		_, err := ci.Call(context.Background(), json.RawMessage(in))
		if omexerr.CategoryOf(err) != omexerr.Input {
			t.Errorf("%s: got %v, want an InputError", in, err)
		}
	}
}

func TestCodeInterpreterPreflight(t *testing.T) {
	needSandbox(t)
	for _, required := range []bool{true, false} {
		var p Preflighter = newCodeInterpreter(ToolConfig{SandboxRequired: required})
		if err := p.Preflight(context.Background()); err != nil {
			t.Errorf("SandboxRequired=%v: %v", required, err)
		}
	}
}

// A Go snippet is held to the same limits once built: no network, no
// writes outside, no more memory than allowed.
func TestCodeInterpreterGoIsolation(t *testing.T) {
	needProgram(t, "go")
	if testing.Short() {
		t.Skip("the first Go build on a machine warms its cache for tens of seconds; skipped with -short")
	}
	outside, err := os.MkdirTemp("", "omex-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	os.Chmod(outside, 0o777)
	target := filepath.Join(outside, "escaped.txt")
	code := `package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if c, err := net.DialTimeout("tcp", "1.1.1.1:53", 2*time.Second); err == nil {
		c.Close()
		fmt.Println("net CONNECTED")
	} else {
		fmt.Println("net blocked")
	}
	if err := os.WriteFile(` + jsonString(target) + `, []byte("x"), 0o644); err == nil {
		fmt.Println("write WRITTEN")
	} else {
		fmt.Println("write refused")
	}
	small := make([]byte, 16<<20)
	small[len(small)-1] = 1
	fmt.Println("small ok")
	big := make([]byte, 1<<30)
	for i := range big {
		big[i] = 1
	}
	fmt.Println("BIG ALLOCATED")
}
`
	out := runCode(t, ToolConfig{CodeMemoryMB: 128, CodeTimeout: 20 * time.Second}, "go", code)
	for _, want := range []string{"net blocked", "write refused", "small ok"} {
		if !strings.Contains(out.Stdout, want) {
			t.Errorf("stdout lacks %q: %+v", want, out)
		}
	}
	// The Go runtime dies of the refused mmap, usually saying "out of
	// memory", sometimes with a SIGSEGV in the collector.
	if strings.Contains(out.Stdout, "BIG ALLOCATED") || out.ExitCode == 0 {
		t.Errorf("1 GiB under a 128 MiB limit: %+v", out)
	}
	if _, err := os.Stat(target); err == nil {
		t.Errorf("%s exists after the snippet ran", target)
	}
}

// A Go snippet cannot change the warm build cache it shares with every
// other snippet: the shared entries in its cache are not writable by it,
// and the warm cache is unchanged afterwards.
func TestCodeInterpreterGoCacheNotWritable(t *testing.T) {
	needProgram(t, "go")
	if testing.Short() {
		t.Skip("the first Go build on a machine warms its cache for tens of seconds; skipped with -short")
	}
	code := `package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	tried, written := 0, 0
	filepath.WalkDir(".cache/go-build", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, _ := d.Info()
		if info.Sys().(*syscall.Stat_t).Nlink < 2 {
			return nil // written by this build, not shared
		}
		tried++
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			f.Write([]byte("poison"))
			f.Close()
			written++
		}
		if os.Chmod(p, 0o666) == nil {
			written++
		}
		return nil
	})
	fmt.Println(tried, written)
}
`
	goCmd, _ := sandbox.FindProgram("go")
	warm, err := warmGoCache(context.Background(), goCmd)
	if err != nil || warm == "" {
		t.Skipf("no warm cache: %v", err)
	}
	before := treeSum(t, warm)
	out := runCode(t, ToolConfig{}, "go", code)
	if os.Geteuid() != 0 {
		// Not root: the snippet gets copies of the cache, not links.
		if out.ExitCode != 0 {
			t.Errorf("%+v", out)
		}
	} else {
		var tried, written int
		if _, err := fmt.Sscan(out.Stdout, &tried, &written); err != nil || tried == 0 || written != 0 {
			t.Errorf("shared cache files tried %d, written %d (%+v)", tried, written, out)
		}
	}
	if after := treeSum(t, warm); after != before {
		t.Errorf("the warm cache changed")
	}
}

// treeSum is a digest of the names, sizes, modes and contents of the files
// under dir.
func treeSum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, _ := d.Info()
		data, _ := os.ReadFile(p)
		fmt.Fprintf(h, "%s %d %v %x\n", p, info.Size(), info.Mode(), sha256.Sum256(data))
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

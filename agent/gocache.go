package agent

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// A cold Go build compiles every standard package the snippet imports:
// tens of seconds for fmt alone. So the standard packages snippets usually
// need are compiled once per machine, by a trusted build of warmProgram
// outside the sandbox, into a cache directory that snippets get a copy of.
// The copy is made of hard links to files the sandbox user cannot write
// (when we are root; plain copies otherwise), so a snippet's build cannot
// change what the next snippet gets.

// warmProgram imports the standard packages a snippet is likely to use.
const warmProgram = `package main

import (
	_ "bufio"
	_ "bytes"
	_ "container/heap"
	_ "encoding/json"
	_ "errors"
	_ "fmt"
	_ "io/fs"
	_ "math"
	_ "math/big"
	_ "math/rand"
	_ "net"
	_ "os"
	_ "path/filepath"
	_ "regexp"
	_ "slices"
	_ "sort"
	_ "strconv"
	_ "strings"
	_ "sync"
	_ "time"
	_ "unicode"
)

func main() {}
`

// goCacheStamp marks a warmed cache; it holds the identity of the go
// command that warmed it and a digest of warmProgram, so a new toolchain or
// a new list of packages warms it again.
const goCacheStamp = "omex-warm.txt"

// goCacheMu keeps two calls from warming the cache at once.
var goCacheMu sync.Mutex

// goBuildEnv is the environment of every Go build, the trusted warm-up
// and the sandboxed snippet builds alike (builds share cache entries only
// when their settings agree): dir as HOME and GOPATH's parent, cache as
// GOCACHE.
func goBuildEnv(dir, cache, goCmd string) []string {
	return append(snippetEnv(dir, goCmd),
		"GOCACHE="+cache,
		"GOPATH="+filepath.Join(dir, "go"),
		"GOENV=off", "GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=", "CGO_ENABLED=0",
	)
}

// warmGoCache returns the warmed cache directory, warming it first if
// needed. It returns "" when there is no place for it (no user cache
// directory); builds are then cold.
func warmGoCache(ctx context.Context, goCmd string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", nil
	}
	cache := filepath.Join(base, "omex", "sandbox-go-build")
	id, err := toolIdentity(goCmd)
	if err != nil {
		return "", err
	}
	goCacheMu.Lock()
	defer goCacheMu.Unlock()
	if b, err := os.ReadFile(filepath.Join(cache, goCacheStamp)); err == nil && string(b) == id {
		return cache, nil
	}
	tmp, err := os.MkdirTemp("", "omex-go-warm-")
	if err != nil {
		return "", omexerr.Resourcef("resource.io", "cannot make a directory to warm the Go build cache").Wrap(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "main.go"), []byte(warmProgram), 0o644); err != nil {
		return "", omexerr.Resourcef("resource.io", "cannot write").WithFile(tmp).Wrap(err)
	}
	ctx, cancel := context.WithTimeout(ctx, goBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", os.DevNull, "main.go")
	cmd.Dir = tmp
	cmd.Env = goBuildEnv(tmp, cache, goCmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", omexerr.Executionf("execution.go_warm", "cannot build the Go standard packages into %s: %s", cache, out).Wrap(err)
	}
	if err := os.WriteFile(filepath.Join(cache, goCacheStamp), []byte(id), 0o644); err != nil {
		return "", omexerr.Resourcef("resource.io", "cannot write").WithFile(cache).Wrap(err)
	}
	return cache, nil
}

// toolIdentity names a program file by path, size and modification time,
// and the warm-up program by its digest.
func toolIdentity(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", omexerr.Executionf("execution.no_interpreter", "cannot stat %s", path).Wrap(err)
	}
	return fmt.Sprintf("%s %d %d %x\n", path, st.Size(), st.ModTime().UnixNano(), sha256.Sum256([]byte(warmProgram))), nil
}

// seedGoCache fills dst, a snippet's empty build cache, from the warmed
// cache: directories owned by uid (when uid >= 0), files hard-linked from
// the warm cache when link is set (the sandbox user is not their owner, so
// it can read them but not change them), copied otherwise. It writes a fresh trim.txt so the build does not trim the
// warm entries, whose times a sandbox user cannot refresh.
func seedGoCache(warm, dst string, uid int, link bool) error {
	err := filepath.WalkDir(warm, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(warm, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if uid >= 0 {
				return os.Chown(target, uid, uid)
			}
			return nil
		case !d.Type().IsRegular() || rel == goCacheStamp || rel == "trim.txt":
			return nil
		case link:
			// Only a file the sandbox user may read is shared; a link to
			// one it may not would break its build.
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o004 != 0 {
				if err := os.Link(p, target); err == nil {
					return nil
				}
			}
		}
		return copyFile(p, target, uid)
	})
	if err == nil {
		err = writeOwned(filepath.Join(dst, "trim.txt"), []byte(strconv.FormatInt(time.Now().Unix(), 10)), uid)
	}
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot seed the snippet's Go build cache from %s", warm).Wrap(err)
	}
	return nil
}

// copyFile copies a regular file and gives the copy to uid (when >= 0).
func copyFile(src, dst string, uid int) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if uid >= 0 {
		return os.Chown(dst, uid, uid)
	}
	return nil
}

// writeOwned writes a file and gives it to uid (when >= 0).
func writeOwned(path string, data []byte, uid int) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	if uid >= 0 {
		return os.Chown(path, uid, uid)
	}
	return nil
}

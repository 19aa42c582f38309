package config

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Validate checks every value against what it allows and returns a
// ConfigurationError naming the first bad key, where its value came from
// and what is allowed.
func (c *Config) Validate() error {
	r, s, z, p, l, sec := &c.Runtime, &c.Storage, &c.Zsei, &c.Performance, &c.Logging, &c.Security
	intIn := func(key string, v, lo, hi int, allowed string) error {
		if v < lo || v > hi {
			return c.bad(key, "%d is out of range: allowed %s", v, allowed)
		}
		return nil
	}
	checks := []func() error{
		func() error {
			return intIn("runtime.max_tokens", r.MaxTokens, 0, 1<<24, "0 (until the context is full) to 16777216")
		},
		func() error {
			if math.IsNaN(r.Temperature) || math.IsInf(r.Temperature, 0) || r.Temperature < 0 {
				return c.bad("runtime.temperature", "%v is not allowed: a finite number >= 0 (0 is greedy)", r.Temperature)
			}
			return nil
		},
		func() error {
			if !(r.TopP > 0 && r.TopP <= 1) {
				return c.bad("runtime.top_p", "%v is out of range: allowed (0, 1] (1 keeps every token)", r.TopP)
			}
			return nil
		},
		func() error { return intIn("runtime.top_k", r.TopK, 0, 1<<24, "0 (all tokens) to 16777216") },
		func() error { return c.checkPath("model.default_model", c.Model.DefaultModel, false, false) },
		func() error { return c.checkPath("model.tokenizer", c.Model.Tokenizer, false, true) },
		func() error { return c.checkDir("storage.cache_dir", s.CacheDir) },
		func() error { return intIn("storage.cache_max_mb", s.CacheMaxMB, 0, 1<<20, "0 (cache off) to 1048576") },
		func() error { return c.checkDir("storage.records_dir", s.RecordsDir) },
		func() error { return c.checkHost() },
		func() error {
			for _, ch := range z.Token {
				if ch <= ' ' || ch == 0x7f || ch > '~' {
					// Never echo the token, not even in an error.
					return c.bad("zsei.token", "contains a space or a non-printable character: allowed printable ASCII without spaces")
				}
			}
			return nil
		},
		func() error { return intIn("zsei.timeout_ms", z.TimeoutMS, 1, 600000, "1 to 600000 (10 minutes)") },
		func() error { return intIn("performance.max_compute_units", p.MaxComputeUnits, 1, 1024, "1 to 1024") },
		func() error { return intIn("performance.threads", p.Threads, 1, 1024, "1 to 1024") },
		func() error {
			return intIn("device.memory_limit_mb", c.Device.MemoryLimitMB, 1, 1<<30, "1 to 1073741824")
		},
		func() error { return c.oneOf("logging.level", l.Level, "debug", "info", "warn", "error") },
		func() error { return c.oneOf("logging.format", l.Format, "text", "json") },
		func() error {
			if l.File == "" {
				return nil
			}
			if st, err := os.Stat(l.File); err == nil && st.IsDir() {
				return c.bad("logging.file", "%s is a directory: allowed a file path, or empty for standard error", l.File)
			}
			if st, err := os.Stat(filepath.Dir(l.File)); err != nil || !st.IsDir() {
				return c.bad("logging.file", "the directory of %s does not exist: allowed a file in an existing directory, or empty for standard error", l.File)
			}
			return nil
		},
		func() error { return intIn("logging.max_size_mb", l.MaxSizeMB, 1, 1<<20, "1 to 1048576") },
		func() error { return intIn("logging.max_backups", l.MaxBackups, 0, 1000, "0 to 1000") },
		func() error {
			return intIn("security.code_timeout_s", sec.CodeTimeoutS, 1, 86400, "1 to 86400 (a day)")
		},
		func() error { return intIn("security.code_memory_mb", sec.CodeMemoryMB, 16, 1<<20, "16 to 1048576") },
		func() error {
			for _, e := range sec.AllowedExtensions {
				if len(e) < 2 || e[0] != '.' || strings.ContainsAny(e, "/\\\x00") || strings.Count(e, ".") != 1 {
					return c.bad("security.allowed_extensions", "%q is not an extension: allowed a dot and a name without separators, e.g. \".go\"", e)
				}
			}
			return nil
		},
		func() error {
			if sec.FileRoot == "" {
				return c.bad("security.file_root", "is empty: allowed an existing directory")
			}
			return c.checkPath("security.file_root", sec.FileRoot, true, false)
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// bad makes the ConfigurationError for key, saying where the value came
// from: the file (named) or the environment variable.
func (c *Config) bad(key, format string, args ...any) *omexerr.Error {
	msg := key + " " + fmt.Sprintf(format, args...)
	switch c.Source(key) {
	case FromEnv:
		return omexerr.Configf("config.bad_value", "%s (set by %s)", msg, keyIndex[key].envName())
	case FromFile:
		return omexerr.Configf("config.bad_value", "%s", msg).WithFile(c.File)
	}
	return omexerr.Configf("config.bad_value", "%s (the default)", msg)
}

func (c *Config) oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return c.bad(key, "%q is not allowed: one of %s", v, strings.Join(allowed, ", "))
}

// checkPath checks that a path, when set, exists (and is a directory or a
// regular file when asked).
func (c *Config) checkPath(key, p string, wantDir, wantFile bool) error {
	if p == "" {
		return nil
	}
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return c.bad(key, "%s does not exist: allowed an existing path, or empty", p)
	case wantDir && !st.IsDir():
		return c.bad(key, "%s is not a directory: allowed an existing directory", p)
	case wantFile && !st.Mode().IsRegular():
		return c.bad(key, "%s is not a regular file: allowed an existing file, or empty", p)
	}
	return nil
}

// checkDir checks a directory OMEX creates on demand: it may be absent,
// but not a file.
func (c *Config) checkDir(key, p string) error {
	if p == "" {
		return c.bad(key, "is empty: allowed a directory path (created when first used)")
	}
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return c.bad(key, "%s is not a directory: allowed a directory path (created when first used)", p)
	}
	return nil
}

func (c *Config) checkHost() error {
	z := &c.Zsei
	if z.Host == "" {
		if z.Enabled {
			return c.bad("zsei.enabled", "is true but zsei.host is empty: allowed false, or true with zsei.host set to an http:// or https:// URL")
		}
		return nil
	}
	u, err := url.Parse(z.Host)
	if err == nil && u.User != nil {
		// Do not echo credentials written into the URL.
		return c.bad("zsei.host", "contains a user or password: allowed an http:// or https:// URL without them (the token goes in zsei.token)")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c.bad("zsei.host", "%q is not allowed: an http:// or https:// URL with a host and no user, query or fragment (the token goes in zsei.token)", z.Host)
	}
	return nil
}

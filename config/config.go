// Package config is OMEX's configuration: ~/.omex/config.toml (or the file
// named by --config), overridden by OMEX_<SECTION>_<KEY> environment
// variables, over documented defaults (docs/CONFIG.md). Every key is typed,
// validated and consumed by real behaviour; unknown keys are rejected.
package config

import (
	"path/filepath"
	"runtime"
	"time"

	"github.com/omex-dev/omex/runtime/sample"
)

// Config is the effective configuration: one struct per TOML section.
type Config struct {
	Runtime     Runtime     `toml:"runtime"`
	Model       Model       `toml:"model"`
	Storage     Storage     `toml:"storage"`
	Zsei        Zsei        `toml:"zsei"`
	Performance Performance `toml:"performance"`
	Device      Device      `toml:"device"`
	Logging     Logging     `toml:"logging"`
	Security    Security    `toml:"security"`

	// File is the configuration file that was read; empty when none was.
	File string `toml:"-"`
	// sources records, per "section.key", where its value came from.
	sources map[string]Source
}

// Runtime holds the generation defaults of `omexc run` and of containers
// whose execution_config leaves a value out.
type Runtime struct {
	MaxTokens   int     `toml:"max_tokens"`  // new tokens at most; 0 = until the context is full
	Temperature float64 `toml:"temperature"` // 0 = greedy
	TopP        float64 `toml:"top_p"`       // nucleus mass in (0, 1]
	TopK        int     `toml:"top_k"`       // 0 = all tokens
	Seed        int64   `toml:"seed"`        // 0 = a new seed from the clock each run
}

// Model names the model used when a command is given none.
type Model struct {
	DefaultModel string `toml:"default_model" omex:"path"` // used by `omexc run` / `container create` without MODEL
	Tokenizer    string `toml:"tokenizer" omex:"path"`     // tokenizer file used when --tokenizer is not given
}

// Storage says where OMEX keeps its files.
type Storage struct {
	CacheDir   string `toml:"cache_dir" omex:"path"`   // the result cache
	CacheMaxMB int    `toml:"cache_max_mb"`            // result cache bound; 0 disables the cache
	RecordsDir string `toml:"records_dir" omex:"path"` // run records of container runs
}

// Zsei configures the ZSEI guidance service client.
type Zsei struct {
	Enabled   bool   `toml:"enabled"`
	Host      string `toml:"host"`                // base URL, e.g. https://zsei.example:8443
	Token     string `toml:"token" omex:"secret"` // agent token, sent as a bearer token, never shown or logged
	TimeoutMS int    `toml:"timeout_ms"`          // per request
}

// Performance bounds how much of the machine a run uses.
type Performance struct {
	MaxComputeUnits int `toml:"max_compute_units"` // engine nodes run in parallel at most
	Threads         int `toml:"threads"`           // GOMAXPROCS during a run
}

// Device describes the machine's limits.
type Device struct {
	MemoryLimitMB int `toml:"memory_limit_mb"` // containers asking more are refused before they start
}

// Logging configures the structured log (log/slog).
type Logging struct {
	Level      string `toml:"level"`            // debug | info | warn | error
	Format     string `toml:"format"`           // text | json
	File       string `toml:"file" omex:"path"` // empty = standard error
	MaxSizeMB  int    `toml:"max_size_mb"`      // rotate the file when it would grow past this
	MaxBackups int    `toml:"max_backups"`      // rotated files kept (file.1 … file.N)
}

// Security bounds what agent tools may do.
type Security struct {
	SandboxRequired   bool     `toml:"sandbox_required"`   // refuse code execution when the sandbox cannot be set up
	CodeTimeoutS      int      `toml:"code_timeout_s"`     // wall-clock limit of one code_interpreter call
	CodeMemoryMB      int      `toml:"code_memory_mb"`     // address-space limit of one code_interpreter call
	AllowedExtensions []string `toml:"allowed_extensions"` // file_reader reads only these
	FileRoot          string   `toml:"file_root" omex:"path"`
}

// Source says where a value came from.
type Source string

// The sources of a value, lowest precedence first.
const (
	FromDefault Source = "default"
	FromFile    Source = "file"
	FromEnv     Source = "env"
)

// Default returns the documented defaults (docs/CONFIG.md), with "~"
// expanded to the current user's home directory.
func Default() *Config {
	return defaults(userHome(nil))
}

func defaults(home string) *Config {
	return &Config{
		Runtime: Runtime{MaxTokens: 256, Temperature: 0.8, TopP: 0.95, TopK: 40, Seed: 0},
		Storage: Storage{
			CacheDir:   filepath.Join(home, ".omex", "cache"),
			CacheMaxMB: 256,
			RecordsDir: filepath.Join(home, ".omex", "runs"),
		},
		Zsei: Zsei{TimeoutMS: 2000},
		// GOMAXPROCS(0) rather than NumCPU: it already honours a cgroup CPU
		// quota and the GOMAXPROCS variable.
		Performance: Performance{MaxComputeUnits: runtime.NumCPU(), Threads: runtime.GOMAXPROCS(0)},
		Device:      Device{MemoryLimitMB: physicalMemoryMB()},
		Logging:     Logging{Level: "info", Format: "text", MaxSizeMB: 10, MaxBackups: 3},
		Security: Security{
			SandboxRequired:   true,
			CodeTimeoutS:      10,
			CodeMemoryMB:      256,
			AllowedExtensions: []string{".go", ".py", ".md", ".txt", ".json", ".toml"},
			FileRoot:          ".",
		},
		sources: map[string]Source{},
	}
}

// Source reports where the value of key ("section.key") came from.
func (c *Config) Source(key string) Source {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return FromDefault
}

// SamplingParams returns sample.Defaults() with [runtime]'s temperature,
// top_p, top_k and seed. A zero seed is replaced by one from the clock;
// fixedSeed reports whether the seed was configured (so the run repeats).
func (r Runtime) SamplingParams() (p sample.Params, fixedSeed bool) {
	p = sample.Defaults()
	p.Temperature = float32(r.Temperature)
	p.TopP = float32(r.TopP)
	p.TopK = r.TopK
	if r.Seed != 0 {
		p.Seed = uint64(r.Seed)
		return p, true
	}
	p.Seed = uint64(time.Now().UnixNano())
	return p, false
}

// CacheMaxBytes is cache_max_mb in bytes.
func (s Storage) CacheMaxBytes() int64 { return int64(s.CacheMaxMB) << 20 }

// Timeout is timeout_ms as a duration.
func (z Zsei) Timeout() time.Duration { return time.Duration(z.TimeoutMS) * time.Millisecond }

// MemoryLimitBytes is memory_limit_mb in bytes: the engine refuses a
// container whose resources.max_memory_mb (or node allocations) exceed it.
func (d Device) MemoryLimitBytes() int64 { return int64(d.MemoryLimitMB) << 20 }

// MaxSizeBytes is max_size_mb in bytes.
func (l Logging) MaxSizeBytes() int64 { return int64(l.MaxSizeMB) << 20 }

// CodeTimeout is code_timeout_s as a duration.
func (s Security) CodeTimeout() time.Duration { return time.Duration(s.CodeTimeoutS) * time.Second }

// CodeMemoryBytes is code_memory_mb in bytes.
func (s Security) CodeMemoryBytes() int64 { return int64(s.CodeMemoryMB) << 20 }

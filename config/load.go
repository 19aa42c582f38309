package config

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/omex-dev/omex/omexerr"
)

// maxFileBytes bounds a configuration file: a real one is a few hundred
// bytes, and the whole file is parsed in memory.
const maxFileBytes = 1 << 20

// DefaultPath is where Load looks for a configuration file when none is
// named, relative to the home directory.
const DefaultPath = ".omex/config.toml"

// Load returns the effective configuration. The file is path when given
// (it must exist), else ~/.omex/config.toml when present, else none; then
// OMEX_<SECTION>_<KEY> variables from env override it (env is a list of
// "NAME=value" as os.Environ returns; HOME there locates "~"). Every
// problem is a ConfigurationError naming the key and what is allowed.
func Load(path string, env []string) (*Config, error) {
	home := userHome(env)
	file := path
	if file == "" {
		cand := filepath.Join(home, DefaultPath)
		if _, err := os.Stat(cand); err == nil {
			file = cand
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, omexerr.Configf("config.unreadable", "cannot read the configuration file").WithFile(cand).Wrap(err)
		}
	}
	var data []byte
	if file != "" {
		var err error
		if data, err = readFile(file); err != nil {
			return nil, err
		}
	}
	return build(data, file, env, home)
}

// Parse returns the configuration that TOML text data gives over the
// defaults, with env's overrides; name is used in errors. It reads no file.
func Parse(data []byte, name string, env []string) (*Config, error) {
	return build(data, name, env, userHome(env))
}

func build(data []byte, file string, env []string, home string) (*Config, error) {
	c := defaults(home)
	if file != "" {
		if err := c.applyTOML(data, file); err != nil {
			return nil, err
		}
		c.File = file
	}
	if err := c.applyEnv(env); err != nil {
		return nil, err
	}
	c.expandPaths(home)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		code := "config.unreadable"
		if errors.Is(err, fs.ErrNotExist) {
			code = "config.not_found"
		}
		return nil, omexerr.Configf(code, "cannot read the configuration file").WithFile(path).WithFlag("--config").Wrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, omexerr.Configf("config.unreadable", "cannot read the configuration file").WithFile(path).Wrap(err)
	}
	if len(data) > maxFileBytes {
		return nil, omexerr.Configf("config.too_large", "the configuration file is over %d bytes", maxFileBytes).WithFile(path)
	}
	return data, nil
}

// applyTOML sets every key the TOML text defines, rejecting unknown
// sections and keys (with the nearest valid one suggested) and values of
// the wrong type. Keys are visited in document order so the first problem
// in the file is the one reported.
func (c *Config) applyTOML(data []byte, file string) error {
	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return omexerr.Configf("config.syntax", "line %d: %s", pe.Position.Line, pe.Message).WithFile(file).WithOffset(int64(pe.Position.Start))
		}
		return omexerr.Configf("config.syntax", "%v", err).WithFile(file)
	}
	for _, key := range md.Keys() {
		sec := key[0]
		if !isSection(sec) {
			if _, isTable := raw[sec].(map[string]any); isTable {
				return omexerr.Configf("config.unknown_section", "unknown section [%s]%s; sections are %s",
					sec, didYouMean(bracket(suggestSection(sec))), strings.Join(sectionList, ", ")).WithFile(file)
			}
			return omexerr.Configf("config.unknown_key", "unknown key %s%s; keys belong in a section such as [runtime]",
				key, didYouMean(suggestKey(sec))).WithFile(file)
		}
		table, ok := raw[sec].(map[string]any)
		if !ok {
			return omexerr.Configf("config.bad_type", "%s must be a table ([%s]), not a value or an array of tables", sec, sec).WithFile(file)
		}
		if len(key) == 1 {
			continue
		}
		full := sec + "." + key[1]
		k := keyIndex[full]
		if k == nil {
			return omexerr.Configf("config.unknown_key", "unknown key %s%s", key, didYouMean(suggestKey(full))).WithFile(file)
		}
		if len(key) > 2 {
			return omexerr.Configf("config.bad_type", "%s must be %s, not a table", full, k.want()).WithFile(file)
		}
		if !k.setTOML(c, table[key[1]]) {
			return omexerr.Configf("config.bad_type", "%s must be %s", full, k.want()).WithFile(file)
		}
		c.sources[full] = FromFile
	}
	return nil
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return "[" + s + "]"
}

// applyEnv applies OMEX_<SECTION>_<KEY> variables. A variable whose
// section is not a configuration section is not ours and is ignored; an
// unknown key in a known section is a typo and is an error.
func (c *Config) applyEnv(env []string) error {
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "OMEX_") {
			continue
		}
		secU, keyU, ok := strings.Cut(name[len("OMEX_"):], "_")
		sec := strings.ToLower(secU)
		if !ok || !isSection(sec) {
			continue
		}
		full := sec + "." + strings.ToLower(keyU)
		k := keyIndex[full]
		if k == nil {
			hint := ""
			if s := suggestKey(full); s != "" {
				hint = keyIndex[s].envName()
			}
			return omexerr.Configf("config.unknown_env", "unknown configuration variable %s%s", name, didYouMean(hint))
		}
		if !k.setText(c, val) {
			shown := " " + tomlQuote(val)
			if k.secret {
				shown = ""
			}
			return omexerr.Configf("config.bad_env", "%s%s is not %s (it sets %s)", name, shown, k.want(), full)
		}
		c.sources[full] = FromEnv
	}
	return nil
}

// expandPaths turns a leading "~" in path keys into the home directory.
// Other relative paths stay relative to the working directory, like the
// command-line paths they stand in for.
func (c *Config) expandPaths(home string) {
	for _, k := range allKeys {
		if !k.path {
			continue
		}
		f := k.field(c)
		p := f.String()
		if p == "~" {
			f.SetString(home)
		} else if strings.HasPrefix(p, "~/") {
			f.SetString(filepath.Join(home, p[2:]))
		}
	}
}

// userHome is HOME from env when set there, else the process's home.
func userHome(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "HOME="); ok && v != "" {
			return v
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "."
}

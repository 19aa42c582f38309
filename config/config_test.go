package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/editdist"
	"github.com/omex-dev/omex/omexerr"
)

// homeEnv returns an environment whose HOME is a fresh directory, so no
// real ~/.omex/config.toml is read.
func homeEnv(t *testing.T, extra ...string) (string, []string) {
	t.Helper()
	home := t.TempDir()
	return home, append([]string{"HOME=" + home}, extra...)
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantConfigError checks err is a ConfigurationError whose text holds every
// fragment.
func wantConfigError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", fragments)
	}
	if omexerr.CategoryOf(err) != omexerr.Configuration {
		t.Fatalf("category %v, want ConfigurationError: %v", omexerr.CategoryOf(err), err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q lacks %q", err, f)
		}
	}
}

func TestDefaults(t *testing.T) {
	home, env := homeEnv(t)
	c, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "" {
		t.Errorf("File = %q without a config file", c.File)
	}
	r := c.Runtime
	if r.MaxTokens != 256 || r.Temperature != 0.8 || r.TopP != 0.95 || r.TopK != 40 || r.Seed != 0 {
		t.Errorf("runtime defaults %+v", r)
	}
	if c.Storage.CacheDir != filepath.Join(home, ".omex", "cache") || c.Storage.RecordsDir != filepath.Join(home, ".omex", "runs") || c.Storage.CacheMaxMB != 256 {
		t.Errorf("storage defaults %+v", c.Storage)
	}
	if c.Zsei.Enabled || c.Zsei.TimeoutMS != 2000 || c.Security.CodeTimeoutS != 10 || !c.Security.SandboxRequired {
		t.Errorf("defaults %+v %+v", c.Zsei, c.Security)
	}
	if c.Device.MemoryLimitMB <= 0 || c.Performance.MaxComputeUnits <= 0 || c.Performance.Threads <= 0 {
		t.Errorf("machine defaults %+v %+v", c.Device, c.Performance)
	}
	for _, k := range Keys() {
		if c.Source(k) != FromDefault {
			t.Errorf("%s source %s", k, c.Source(k))
		}
	}
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestHomeFileThenExplicitFile(t *testing.T) {
	home, env := homeEnv(t)
	writeFile(t, filepath.Join(home, ".omex", "config.toml"), "[runtime]\ntemperature = 0.25\n")
	c, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runtime.Temperature != 0.25 || c.Source("runtime.temperature") != FromFile || c.File != filepath.Join(home, ".omex", "config.toml") {
		t.Fatalf("home file not read: %+v from %q", c.Runtime, c.File)
	}
	// An explicit file replaces the home one entirely.
	other := writeFile(t, filepath.Join(t.TempDir(), "x.toml"), "[runtime]\ntop_k = 3\n")
	c, err = Load(other, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runtime.Temperature != 0.8 || c.Runtime.TopK != 3 {
		t.Fatalf("explicit file: %+v", c.Runtime)
	}
	// An explicit file must exist.
	_, err = Load(filepath.Join(home, "missing.toml"), env)
	wantConfigError(t, err, "config.not_found", "missing.toml")
}

func TestUnknownKeysSuggest(t *testing.T) {
	cases := []struct{ text, want string }{
		{"[runtime]\ntemprature = 0.5\n", "unknown key runtime.temprature (did you mean runtime.temperature?)"},
		{"[runtme]\ntemperature = 0.5\n", "unknown section [runtme] (did you mean [runtime]?)"},
		{"temperature = 0.5\n", "unknown key temperature (did you mean runtime.temperature?)"},
		{"[runtime]\ncache_dir = \"/tmp\"\n", "unknown key runtime.cache_dir (did you mean storage.cache_dir?)"},
		{"[logging]\nmax_backup = 2\n", "did you mean logging.max_backups?"},
		{"[zsei]\nhots = \"http://x\"\n", "did you mean zsei.host?"},
		{"[security]\nquux = 1\n", "unknown key security.quux"},
		{"[runtime.sub]\nx = 1\n", "unknown key runtime.sub"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.text), "c.toml", nil)
		wantConfigError(t, err, tc.want, "c.toml")
		if strings.Contains(tc.want, "quux") && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("far-off key got a suggestion: %v", err)
		}
	}
}

func TestBadTypesAndSyntax(t *testing.T) {
	cases := []struct{ text, want string }{
		{"[runtime]\ntemperature = \"hot\"\n", "runtime.temperature must be a number"},
		{"[runtime]\nmax_tokens = 1.5\n", "runtime.max_tokens must be an integer"},
		{"[zsei]\nenabled = \"yes\"\n", "zsei.enabled must be true or false"},
		{"[security]\nallowed_extensions = [1, 2]\n", "security.allowed_extensions must be an array of strings"},
		{"runtime = 3\n", "runtime must be a table"},
		{"[[runtime]]\ntop_k = 1\n", "runtime must be a table"},
		{"[runtime]\ntop_k = { a = 1 }\n", "runtime.top_k must be an integer"},
		{"[runtime\n", "config.syntax"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.text), "c.toml", nil)
		wantConfigError(t, err, tc.want)
	}
	_, err := Parse([]byte("[runtime]\ntop_k = = 3\n"), "c.toml", nil)
	wantConfigError(t, err, "line 2", "c.toml", "offset")
	// An integer is a number too.
	c, err := Parse([]byte("[runtime]\ntemperature = 1\n"), "c.toml", nil)
	if err != nil || c.Runtime.Temperature != 1 {
		t.Fatalf("integer temperature: %v %v", c, err)
	}
}

func TestInvalidValuesNameKeyAndAllowed(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "plain"), "x")
	cases := []struct{ text, want string }{
		{"[runtime]\nmax_tokens = -1", "runtime.max_tokens -1 is out of range: allowed 0"},
		{"[runtime]\ntemperature = -0.5", "runtime.temperature -0.5 is not allowed: a finite number >= 0"},
		{"[runtime]\ntemperature = nan", "runtime.temperature NaN"},
		{"[runtime]\ntop_p = 0", "runtime.top_p 0 is out of range: allowed (0, 1]"},
		{"[runtime]\ntop_p = 1.5", "runtime.top_p 1.5"},
		{"[runtime]\ntop_k = -2", "runtime.top_k -2"},
		{"[model]\ndefault_model = \"/no/such/model.gguf\"", "model.default_model /no/such/model.gguf does not exist"},
		{"[model]\ntokenizer = \"" + dir + "\"", "model.tokenizer " + dir + " is not a regular file"},
		{"[storage]\ncache_dir = \"" + file + "\"", "storage.cache_dir " + file + " is not a directory"},
		{"[storage]\ncache_dir = \"\"", "storage.cache_dir is empty"},
		{"[storage]\ncache_max_mb = -1", "storage.cache_max_mb -1 is out of range: allowed 0 (cache off)"},
		{"[storage]\nrecords_dir = \"" + file + "\"", "storage.records_dir"},
		{"[zsei]\nenabled = true", "zsei.enabled is true but zsei.host is empty"},
		{"[zsei]\nhost = \"ftp://x\"", "zsei.host \"ftp://x\" is not allowed"},
		{"[zsei]\nhost = \"http://u:hunter2@x\"", "zsei.host contains a user or password"},
		{"[zsei]\ntoken = \"a b\"", "zsei.token contains a space"},
		{"[zsei]\ntimeout_ms = 0", "zsei.timeout_ms 0 is out of range: allowed 1 to 600000"},
		{"[performance]\nmax_compute_units = 0", "performance.max_compute_units 0"},
		{"[performance]\nthreads = 5000", "performance.threads 5000"},
		{"[device]\nmemory_limit_mb = 0", "device.memory_limit_mb 0"},
		{"[logging]\nlevel = \"loud\"", "logging.level \"loud\" is not allowed: one of debug, info, warn, error"},
		{"[logging]\nformat = \"xml\"", "logging.format \"xml\" is not allowed: one of text, json"},
		{"[logging]\nfile = \"/no/such/dir/log\"", "logging.file"},
		{"[logging]\nfile = \"" + dir + "\"", "is a directory"},
		{"[logging]\nmax_size_mb = 0", "logging.max_size_mb 0"},
		{"[logging]\nmax_backups = -1", "logging.max_backups -1"},
		{"[security]\ncode_timeout_s = 0", "security.code_timeout_s 0"},
		{"[security]\ncode_memory_mb = 1", "security.code_memory_mb 1"},
		{"[security]\nallowed_extensions = [\"go\"]", "security.allowed_extensions \"go\" is not an extension"},
		{"[security]\nallowed_extensions = [\"./x\"]", "security.allowed_extensions"},
		{"[security]\nfile_root = \"" + file + "\"", "security.file_root " + file + " is not a directory"},
		{"[security]\nfile_root = \"\"", "security.file_root is empty"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.text+"\n"), "c.toml", nil)
		wantConfigError(t, err, tc.want, "config.bad_value", "file c.toml")
		if strings.Contains(tc.text, "hunter2") && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("password echoed: %v", err)
		}
	}
	_, err := Parse([]byte("[zsei]\ntoken = \"sec ret\"\n"), "c.toml", nil)
	if err == nil || strings.Contains(err.Error(), "sec ret") {
		t.Errorf("token echoed or accepted: %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	home, env := homeEnv(t, "OMEX_RUNTIME_TEMPERATURE=0.5", "OMEX_SECURITY_ALLOWED_EXTENSIONS=.go, .rs", "OMEX_ZSEI_TOKEN=s3cr3t",
		"OMEX_UNRELATED_THING=1", "OMEX_=x", "PATH=/bin")
	writeFile(t, filepath.Join(home, ".omex", "config.toml"), "[runtime]\ntemperature = 0.1\ntop_k = 7\n")
	c, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runtime.Temperature != 0.5 || c.Source("runtime.temperature") != FromEnv {
		t.Errorf("env does not override the file: %v from %s", c.Runtime.Temperature, c.Source("runtime.temperature"))
	}
	if c.Runtime.TopK != 7 || c.Source("runtime.top_k") != FromFile {
		t.Errorf("file value lost: %d", c.Runtime.TopK)
	}
	if !reflect.DeepEqual(c.Security.AllowedExtensions, []string{".go", ".rs"}) || c.Zsei.Token != "s3cr3t" {
		t.Errorf("env lists/strings: %q %q", c.Security.AllowedExtensions, c.Zsei.Token)
	}

	_, err = Load("", append(env, "OMEX_RUNTIME_TOP_P=lots"))
	wantConfigError(t, err, "OMEX_RUNTIME_TOP_P", `"lots"`, "is not a number", "runtime.top_p")
	_, err = Load("", append(env, "OMEX_RUNTIME_TOP_P=2"))
	wantConfigError(t, err, "runtime.top_p 2 is out of range", "set by OMEX_RUNTIME_TOP_P")
	_, err = Load("", append(env, "OMEX_RUNTIME_TEMPRATURE=0.2"))
	wantConfigError(t, err, "unknown configuration variable OMEX_RUNTIME_TEMPRATURE (did you mean OMEX_RUNTIME_TEMPERATURE?)")
	_, err = Load("", append(env, "OMEX_ZSEI_ENABLED=maybe"))
	wantConfigError(t, err, "OMEX_ZSEI_ENABLED", "true or false")
}

func TestTildeExpands(t *testing.T) {
	home, env := homeEnv(t, "OMEX_STORAGE_CACHE_DIR=~/c")
	c, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.CacheDir != filepath.Join(home, "c") {
		t.Fatalf("cache_dir %q", c.Storage.CacheDir)
	}
}

// TestShowRoundTrips checks `config show`'s TOML reads back as the same
// configuration, names each source, and never shows the token.
func TestShowRoundTrips(t *testing.T) {
	home, env := homeEnv(t, "OMEX_RUNTIME_SEED=42", "OMEX_ZSEI_TOKEN=tok-XYZ")
	cfgFile := writeFile(t, filepath.Join(home, "c.toml"), "[runtime]\ntemperature = 0.0\n[logging]\nformat = \"json\"\n[security]\nallowed_extensions = [\".go\", \"a\\\"b.x\"]\n")
	_, err := Load(cfgFile, env)
	wantConfigError(t, err, `"a\"b.x" is not an extension`)
	writeFile(t, cfgFile, "[runtime]\ntemperature = 0.0\n[logging]\nformat = \"json\"\n[security]\nallowed_extensions = [\".go\", \".é\"]\n")
	c, err := Load(cfgFile, env)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"# configuration file: " + cfgFile, "temperature = 0.0  # file", "seed = 42  # env OMEX_RUNTIME_SEED",
		`token = "<set>"  # env OMEX_ZSEI_TOKEN`, "top_k = 40  # default", "[security]"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tok-XYZ") {
		t.Fatalf("show leaks the token:\n%s", out)
	}
	back, err := Parse(buf.Bytes(), "shown.toml", []string{"HOME=" + home})
	if err != nil {
		t.Fatalf("show output does not read back: %v\n%s", err, out)
	}
	back.Zsei.Token = c.Zsei.Token
	for _, k := range allKeys {
		if a, b := k.field(c).Interface(), k.field(back).Interface(); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %v read back as %v", k.full, a, b)
		}
	}
}

func TestSuggestDistance(t *testing.T) {
	if d := editdist.Levenshtein("kitten", "sitting"); d != 3 {
		t.Fatalf("levenshtein = %d", d)
	}
	if s := suggestKey("tmp"); s != "" {
		t.Errorf("tmp suggested %q", s)
	}
	if s := suggestSection("logs"); s != "" && s != "logging" {
		t.Errorf("logs suggested %q", s)
	}
}

// TestDocsListEveryKey keeps docs/CONFIG.md in step with the key set.
func TestDocsListEveryKey(t *testing.T) {
	b, err := os.ReadFile("../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range allKeys {
		if !strings.Contains(doc, "`"+k.name+"`") || !strings.Contains(doc, k.envName()) {
			t.Errorf("docs/CONFIG.md does not document %s (%s)", k.full, k.envName())
		}
	}
	for _, s := range sectionList {
		if !strings.Contains(doc, "["+s+"]") {
			t.Errorf("docs/CONFIG.md lacks section [%s]", s)
		}
	}
}

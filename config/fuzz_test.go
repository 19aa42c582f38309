package config

import (
	"bytes"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// FuzzLoad feeds arbitrary bytes as a configuration file: the result is
// a valid configuration or a ConfigurationError, never a panic, and a
// configuration that loads survives `config show` and back.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"[runtime]\ntemperature = 0.5\nmax_tokens = 10\n",
		"[runtime]\ntemprature = 0.5\n",
		"[security]\nallowed_extensions = [\".go\", \".md\"]\n",
		"[zsei]\nenabled = true\nhost = \"http://127.0.0.1:1\"\ntoken = \"t\"\n",
		"[logging]\nlevel = \"debug\"\nformat = \"json\"\n",
		"runtime = { top_k = 3 }\n",
		"[[runtime]]\n",
		"[runtime.x]\ny=1\n",
		"a.b.c = 1\n",
		"[runtime]\nseed = -9223372036854775808\n",
	} {
		f.Add([]byte(s))
	}
	env := []string{"HOME=/nonexistent-home"}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml", env)
		if err != nil {
			if omexerr.CategoryOf(err) != omexerr.Configuration {
				t.Fatalf("error outside the family: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := c.WriteTOML(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(buf.Bytes(), "shown.toml", env); err != nil {
			t.Fatalf("shown configuration does not read back: %v\n%s", err, buf.String())
		}
	})
}

package telemetry

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/config"
)

func logging(level, format string) config.Logging {
	return config.Logging{Level: level, Format: format, MaxSizeMB: 1, MaxBackups: 1}
}

func TestLoggerFormatAndLevel(t *testing.T) {
	var buf bytes.Buffer
	l, c, err := NewLogger(logging("info", "json"), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Debug("hidden")
	l.Info("run done", "tokens", 7, "token", "s3cr3t")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json format wrote %q: %v", buf.String(), err)
	}
	if rec["msg"] != "run done" || rec["tokens"] != 7.0 || rec["level"] != "INFO" {
		t.Fatalf("record %v", rec)
	}
	if strings.Contains(buf.String(), "s3cr3t") || strings.Contains(buf.String(), "hidden") {
		t.Fatalf("token or debug record written: %s", buf.String())
	}

	buf.Reset()
	l, _, _ = NewLogger(logging("debug", "text"), &buf)
	l.Debug("shown", "k", 1)
	if got := buf.String(); !strings.HasPrefix(got, "time=") || !strings.Contains(got, "level=DEBUG msg=shown k=1") {
		t.Fatalf("text format wrote %q", got)
	}

	buf.Reset()
	l, _, _ = NewLogger(logging("warn", "text"), &buf)
	l.Info("dropped")
	l.Error("kept")
	if got := buf.String(); strings.Contains(got, "dropped") || !strings.Contains(got, "kept") {
		t.Fatalf("warn level wrote %q", got)
	}

	if _, _, err := NewLogger(logging("loud", "text"), &buf); err == nil {
		t.Fatal("bad level accepted")
	}
	if _, _, err := NewLogger(logging("info", "xml"), &buf); err == nil {
		t.Fatal("bad format accepted")
	}
}

// TestLoggerFileRotatesAtMaxSize writes past logging.max_size_mb (1 MiB)
// and checks the file rotated, keeping max_backups (1) old file.
func TestLoggerFileRotatesAtMaxSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omex.log")
	cfg := logging("info", "json")
	cfg.File = path
	var stderr bytes.Buffer
	l, c, err := NewLogger(cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("p", 1000)
	for i := 0; i < 2500; i++ { // ~2.5 MB of records
		l.Info("r", "i", i, "pad", pad)
	}
	c.Close()
	if stderr.Len() != 0 {
		t.Fatalf("records went to stderr with logging.file set")
	}
	for _, name := range []string{path, path + ".1"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1<<20 || (name != path && st.Size() < 1000<<10) {
			t.Errorf("%s is %d bytes; want not over 1 MiB (and a rotated file near it)", name, st.Size())
		}
	}
	if _, err := os.Stat(path + ".2"); !os.IsNotExist(err) {
		t.Fatalf("more backups than max_backups: %v", err)
	}
}

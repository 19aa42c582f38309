package telemetry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatingWriterKeepsBackups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "omex.log")
	w, err := OpenRotating(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := 0; i < 12; i++ {
		line := fmt.Sprintf("record %02d %s\n", i, strings.Repeat("x", 18)) // 29 bytes
		all = append(all, line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("a third backup exists with max_backups 2: %v", err)
	}
	var kept string
	for _, name := range []string{path + ".2", path + ".1", path} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 100 {
			t.Errorf("%s is %d bytes, over the 100-byte bound", name, len(b))
		}
		kept += string(b)
	}
	// Three files of three 29-byte records: the newest nine, in order.
	if want := strings.Join(all[3:], ""); kept != want {
		t.Fatalf("kept records\n%q\nwant\n%q", kept, want)
	}
}

func TestRotatingWriterNoBackupsAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	w, err := OpenRotating(path, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("12345678\n"))
	w.Close()
	// Reopening appends and counts the existing size.
	w, err = OpenRotating(path, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abc\n"))
	w.Close()
	b, _ := os.ReadFile(path)
	if string(b) != "abc\n" {
		t.Fatalf("got %q, want only the newest record", b)
	}
	matches, _ := filepath.Glob(path + ".*")
	if len(matches) != 0 {
		t.Fatalf("backups with max_backups 0: %v", matches)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
	if _, err := OpenRotating(path, 0, 1); err == nil {
		t.Fatal("zero size accepted")
	}
}

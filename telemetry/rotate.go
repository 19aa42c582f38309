package telemetry

import (
	"fmt"
	"os"
	"sync"
)

// RotatingWriter appends to a log file and, before a write would take it
// past MaxBytes, renames it to FILE.1 (FILE.1 to FILE.2, …) keeping at most
// Backups old files. Each process counts its own writes: processes sharing
// one file may each let it grow a little past the bound before rotating.
type RotatingWriter struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	backups  int
	f        *os.File
	size     int64
}

// OpenRotating opens (creating if needed) the log file path for appending.
func OpenRotating(path string, maxBytes int64, backups int) (*RotatingWriter, error) {
	if maxBytes <= 0 || backups < 0 {
		return nil, fmt.Errorf("rotating log %s: max bytes %d and backups %d must be positive", path, maxBytes, backups)
	}
	w := &RotatingWriter{path: path, maxBytes: maxBytes, backups: backups}
	if err := w.open(os.O_APPEND); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *RotatingWriter) open(mode int) error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would not fit. A record larger
// than MaxBytes is written whole to a fresh file rather than split.
func (w *RotatingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, os.ErrClosed
	}
	if w.size > 0 && w.size+int64(len(p)) > w.maxBytes {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// rotate shifts FILE.i to FILE.i+1, dropping the oldest, and starts FILE
// afresh.
func (w *RotatingWriter) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	w.f = nil
	name := func(i int) string { return fmt.Sprintf("%s.%d", w.path, i) }
	if w.backups == 0 {
		if err := os.Remove(w.path); err != nil && !os.IsNotExist(err) {
			return err
		}
	} else {
		if err := os.Remove(name(w.backups)); err != nil && !os.IsNotExist(err) {
			return err
		}
		for i := w.backups - 1; i >= 1; i-- {
			if err := os.Rename(name(i), name(i+1)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		if err := os.Rename(w.path, name(1)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return w.open(os.O_TRUNC)
}

// Close closes the file.
func (w *RotatingWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

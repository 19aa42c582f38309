package resultcache

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// index is index.json: what the cache holds and when each entry was last
// used, plus remembered file hashes. It is rewritten whole, atomically
// (temporary file, then rename), under the cache lock.
type index struct {
	Version int                   `json:"version"`
	Clock   uint64                `json:"clock"` // bumped on every access; orders entries for LRU
	Entries map[string]indexEntry `json:"entries"`
	Files   map[string]fileHash   `json:"files"` // absolute path -> hash, valid while size and mtime match
}

// indexEntry is one cached result.
type indexEntry struct {
	Size       int64     `json:"size"`        // bytes of its file
	LastUse    uint64    `json:"last_use"`    // Clock at its last access
	LastAccess time.Time `json:"last_access"` // for people reading the index
}

// fileHash remembers a model file's SHA-256 so a multi-gigabyte file is
// hashed once, not on every run.
type fileHash struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
}

const indexVersion = 1

// maxIndexBytes bounds index.json; a cache of a million entries stays under it.
const maxIndexBytes = 256 << 20

func newIndex() *index {
	return &index{Version: indexVersion, Entries: map[string]indexEntry{}, Files: map[string]fileHash{}}
}

// decodeIndex parses and checks index.json.
func decodeIndex(b []byte) (*index, error) {
	ix := newIndex()
	if err := json.Unmarshal(b, ix); err != nil {
		return nil, err
	}
	if ix.Version != indexVersion {
		return nil, fmt.Errorf("index version %d, want %d", ix.Version, indexVersion)
	}
	if ix.Entries == nil {
		ix.Entries = map[string]indexEntry{}
	}
	if ix.Files == nil {
		ix.Files = map[string]fileHash{}
	}
	for k, e := range ix.Entries {
		if !validKey(k) || e.Size < 0 {
			return nil, fmt.Errorf("index entry %q is malformed", k)
		}
	}
	for p, f := range ix.Files {
		if !filepath.IsAbs(p) || !validKey(f.SHA256) || f.Size < 0 {
			return nil, fmt.Errorf("file hash for %q is malformed", p)
		}
	}
	return ix, nil
}

// loadIndex reads the index; a missing or damaged one is rebuilt from the
// entry files present, so a crash never loses track of disk space.
func (c *Cache) loadIndex() *index {
	b, err := readBounded(filepath.Join(c.dir, "index.json"), maxIndexBytes)
	if err == nil {
		if ix, err := decodeIndex(b); err == nil {
			return ix
		}
	}
	ix := newIndex()
	des, _ := os.ReadDir(c.entriesDir())
	for _, de := range des {
		name := de.Name()
		key := name[:max(0, len(name)-len(".json"))]
		info, err := de.Info()
		if !validKey(key) || name != key+".json" || err != nil || !info.Mode().IsRegular() {
			continue
		}
		ix.Clock++
		ix.Entries[key] = indexEntry{Size: info.Size(), LastUse: ix.Clock, LastAccess: info.ModTime()}
	}
	return ix
}

// saveIndex writes the index atomically.
func (c *Cache) saveIndex(ix *index) error {
	b, err := json.MarshalIndent(ix, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.dir, "index.json"), b)
}

// writeAtomic writes b to path through a temporary file in the same
// directory and a rename, so readers see the old file or the new one.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return werr
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over %d", path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return b, nil
}

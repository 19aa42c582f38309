package resultcache

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/omex-dev/omex/omexerr"
)

// Cache is a result cache in a directory:
//
//	DIR/index.json         entries, their sizes and last use (LRU order), file hashes
//	DIR/entries/KEY.json   one result
//	DIR/lock               the lock every operation holds
//
// The directory is created on the first Put.
type Cache struct {
	dir      string
	maxBytes int64
}

// Entry is one cached result: what the run printed and what it produced.
type Entry struct {
	Key        string    `json:"key"`
	Output     string    `json:"output"` // all the text the run streamed, the prompt's echo included
	Text       string    `json:"text"`   // the generated text alone
	PromptIDs  []int     `json:"prompt_ids"`
	IDs        []int     `json:"ids"`
	StopReason string    `json:"stop_reason"`
	Created    time.Time `json:"created"`
}

// Open returns the cache in dir holding at most maxBytes of entries; a
// bound of 0 or less turns it off (Get always misses, Put stores nothing).
func Open(dir string, maxBytes int64) *Cache { return &Cache{dir: dir, maxBytes: maxBytes} }

// Enabled reports whether the cache can store anything.
func (c *Cache) Enabled() bool { return c.maxBytes > 0 }

func (c *Cache) entriesDir() string          { return filepath.Join(c.dir, "entries") }
func (c *Cache) entryPath(key string) string { return filepath.Join(c.entriesDir(), key+".json") }

// lock creates the cache directory when asked and takes its lock.
func (c *Cache) lock(create bool) (func(), error) {
	if create {
		if err := os.MkdirAll(c.entriesDir(), 0o755); err != nil {
			return nil, omexerr.Resourcef("resource.cache_dir", "cannot create the result cache (storage.cache_dir)").WithFile(c.dir).Wrap(err)
		}
	} else if _, err := os.Stat(c.dir); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(c.dir, "lock"))
	if err != nil {
		return nil, omexerr.Resourcef("resource.cache_lock", "cannot lock the result cache").WithFile(c.dir).Wrap(err)
	}
	return unlock, nil
}

// Get returns the entry stored under key and marks it most recently used.
// Anything that prevents a hit (no cache yet, a damaged entry) is a miss:
// a damaged entry is deleted so it is not read again.
func (c *Cache) Get(key string) (*Entry, bool) {
	if !c.Enabled() || !validKey(key) {
		return nil, false
	}
	unlock, err := c.lock(false)
	if err != nil {
		return nil, false
	}
	defer unlock()
	ix := c.loadIndex()
	ie, ok := ix.Entries[key]
	if !ok {
		return nil, false
	}
	e, err := c.readEntry(key, ie.Size)
	if err != nil {
		os.Remove(c.entryPath(key))
		delete(ix.Entries, key)
		c.saveIndex(ix)
		return nil, false
	}
	ix.Clock++
	ie.LastUse, ie.LastAccess = ix.Clock, time.Now().UTC()
	ix.Entries[key] = ie
	c.saveIndex(ix) // a failed write only loses the recency update
	return e, true
}

func (c *Cache) readEntry(key string, size int64) (*Entry, error) {
	b, err := readBounded(c.entryPath(key), max(size, 0))
	if err != nil {
		return nil, err
	}
	return decodeEntry(b, key)
}

// decodeEntry parses an entry file and checks it is the entry for key.
func decodeEntry(b []byte, key string) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if e.Key != key {
		return nil, fmt.Errorf("entry holds key %q, want %q", e.Key, key)
	}
	return &e, nil
}

// Put stores e under key, then evicts least recently used entries until
// the cache fits its bound. An entry larger than the whole bound is not
// stored.
func (c *Cache) Put(key string, e *Entry) error {
	if !c.Enabled() {
		return nil
	}
	if !validKey(key) {
		return fmt.Errorf("result cache: invalid key %q", key)
	}
	if !utf8.ValidString(e.Output) || !utf8.ValidString(e.Text) {
		// JSON would replace the invalid bytes, and a replay must print
		// exactly what the run printed: such a result is not stored.
		return nil
	}
	e.Key = key
	if e.Created.IsZero() {
		e.Created = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if int64(len(b)) > c.maxBytes {
		return nil
	}
	unlock, err := c.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	ix := c.loadIndex()
	c.reconcile(ix)
	if err := writeAtomic(c.entryPath(key), b); err != nil {
		return omexerr.Resourcef("resource.cache_write", "cannot write a result cache entry").WithFile(c.entryPath(key)).Wrap(err)
	}
	ix.Clock++
	ix.Entries[key] = indexEntry{Size: int64(len(b)), LastUse: ix.Clock, LastAccess: time.Now().UTC()}
	c.evict(ix)
	return c.saveIndex(ix)
}

// reconcile makes the index and the entry files agree after a crash
// between writing one and the other: files the index does not know are
// deleted, entries whose file is gone are dropped.
func (c *Cache) reconcile(ix *index) {
	des, err := os.ReadDir(c.entriesDir())
	if err != nil {
		return
	}
	present := map[string]bool{}
	for _, de := range des {
		name := de.Name()
		key := name[:max(0, len(name)-len(".json"))]
		if !validKey(key) || name != key+".json" {
			continue
		}
		present[key] = true
		if _, ok := ix.Entries[key]; !ok {
			os.Remove(c.entryPath(key))
		}
	}
	for k := range ix.Entries {
		if !present[k] {
			delete(ix.Entries, k)
		}
	}
	for p := range ix.Files {
		if _, err := os.Stat(p); err != nil {
			delete(ix.Files, p)
		}
	}
}

// evict removes least recently used entries until the total fits.
func (c *Cache) evict(ix *index) {
	var total int64
	keys := make([]string, 0, len(ix.Entries))
	for k, e := range ix.Entries {
		total += e.Size
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return ix.Entries[keys[i]].LastUse < ix.Entries[keys[j]].LastUse })
	for _, k := range keys {
		if total <= c.maxBytes {
			break
		}
		if err := os.Remove(c.entryPath(k)); err != nil && !os.IsNotExist(err) {
			continue // still on disk: keep counting it
		}
		total -= ix.Entries[k].Size
		delete(ix.Entries, k)
	}
}

// Stats reports how many entries the cache holds and their total bytes.
func (c *Cache) Stats() (entries int, bytes int64) {
	unlock, err := c.lock(false)
	if err != nil {
		return 0, 0
	}
	defer unlock()
	ix := c.loadIndex()
	for _, e := range ix.Entries {
		entries++
		bytes += e.Size
	}
	return entries, bytes
}

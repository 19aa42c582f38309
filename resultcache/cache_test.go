package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omex-dev/omex/runtime/sample"
)

func request(prompt string) Request {
	p := sample.Defaults()
	p.Temperature = 0
	return Request{Model: "file:abc", Prompt: prompt, Sampling: p, MaxTokens: 16}
}

func TestKeyCoversEveryInput(t *testing.T) {
	base := request("Once")
	k := Key(base)
	if Key(base) != k || !validKey(k) {
		t.Fatalf("key %q not stable or not hex", k)
	}
	greedyOtherSeed := base
	greedyOtherSeed.Sampling.Seed = 99
	if Key(greedyOtherSeed) != k {
		t.Error("a greedy run's key depends on the unused seed")
	}
	variants := map[string]func(r *Request){
		"model":     func(r *Request) { r.Model = "file:abd" },
		"tokenizer": func(r *Request) { r.Tokenizer = "file:t" },
		"engine":    func(r *Request) { r.Engine = "ir quant=q4_0" },
		"prompt":    func(r *Request) { r.Prompt = "Once " },
		"temp":      func(r *Request) { r.Sampling.Temperature = 0.5 },
		"top_p":     func(r *Request) { r.Sampling.TopP = 0.9 },
		"top_k":     func(r *Request) { r.Sampling.TopK = 3 },
		"min_p":     func(r *Request) { r.Sampling.MinP = 0.1 },
		"penalty":   func(r *Request) { r.Sampling.RepetitionPenalty = 1.1 },
		"max":       func(r *Request) { r.MaxTokens = 17 },
		"stop":      func(r *Request) { r.Stop = []string{"."} },
		"stop2":     func(r *Request) { r.Stop = []string{"", ""} },
		"no_bos":    func(r *Request) { r.NoBOS = true },
		"no_echo":   func(r *Request) { r.NoEcho = true },
		"window":    func(r *Request) { r.PenaltyWindow = 3 },
	}
	seen := map[string]string{k: "base"}
	for name, change := range variants {
		r := base
		change(&r)
		kk := Key(r)
		if prev, dup := seen[kk]; dup {
			t.Errorf("%s gives the same key as %s", name, prev)
		}
		seen[kk] = name
	}
	// With sampling, the seed matters.
	a, b := base, base
	a.Sampling.Temperature, b.Sampling.Temperature = 0.8, 0.8
	b.Sampling.Seed = 1
	if Key(a) == Key(b) {
		t.Error("a sampled run's key ignores the seed")
	}
	// Strings are length-prefixed: moving text between fields changes the key.
	x, y := base, base
	x.Prompt, x.Tokenizer = "ab", "c"
	y.Prompt, y.Tokenizer = "b", "ca"
	if Key(x) == Key(y) {
		t.Error("field boundaries are ambiguous")
	}
}

func TestDeterministic(t *testing.T) {
	p := sample.Defaults()
	if Deterministic(p, false) {
		t.Error("temperature 1 with a clock seed is deterministic")
	}
	if !Deterministic(p, true) {
		t.Error("a fixed seed is not deterministic")
	}
	p.Temperature = 0
	if !Deterministic(p, false) {
		t.Error("greedy is not deterministic")
	}
}

func entry(text string) *Entry {
	return &Entry{Output: "Once" + text, Text: text, PromptIDs: []int{1, 2}, IDs: []int{3}, StopReason: "eos"}
}

func TestPutGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := Open(dir, 1<<20)
	k := Key(request("Once"))
	if _, ok := c.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("Get created the cache directory")
	}
	if err := c.Put(k, entry(" upon")); err != nil {
		t.Fatal(err)
	}
	e, ok := c.Get(k)
	if !ok || e.Output != "Once upon" || e.Text != " upon" || e.StopReason != "eos" || len(e.IDs) != 1 {
		t.Fatalf("got %+v %v", e, ok)
	}
	if _, ok := c.Get(Key(request("Twice"))); ok {
		t.Fatal("hit for another prompt")
	}
	if _, ok := c.Get("../../etc/passwd"); ok {
		t.Fatal("hit for a path")
	}
	// Output that is not valid UTF-8 could not be replayed byte for byte.
	bad := Key(request("bad"))
	if err := c.Put(bad, &Entry{Output: "a\xff", Text: "\xff"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(bad); ok {
		t.Fatal("invalid UTF-8 output was cached")
	}
	// A cache with a zero bound stores nothing.
	off := Open(filepath.Join(t.TempDir(), "off"), 0)
	if err := off.Put(k, entry("x")); err != nil {
		t.Fatal(err)
	}
	if _, ok := off.Get(k); ok || off.Enabled() {
		t.Fatal("a zero-bound cache stored an entry")
	}
}

// TestLRUEviction bounds the cache to about three entries and checks the
// least recently used one is evicted, not the oldest written.
func TestLRUEviction(t *testing.T) {
	dir := t.TempDir()
	pad := strings.Repeat("x", 900)
	probe := Open(t.TempDir(), 1<<20)
	k0 := Key(request("probe"))
	probe.Put(k0, entry(pad))
	_, one := probe.Stats()
	c := Open(dir, 3*one+one/2) // room for three entries
	keys := []string{Key(request("a")), Key(request("b")), Key(request("c")), Key(request("d"))}
	for _, k := range keys[:3] {
		if err := c.Put(k, entry(pad)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get(keys[0]); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	if err := c.Put(keys[3], entry(pad)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true, true} {
		if _, ok := c.Get(keys[i]); ok != want {
			t.Errorf("entry %c present=%v, want %v", 'a'+i, ok, want)
		}
	}
	n, total := c.Stats()
	if n != 3 || total > 3*one+one/2 {
		t.Fatalf("%d entries, %d bytes over the bound %d", n, total, 3*one+one/2)
	}
	files, _ := os.ReadDir(filepath.Join(dir, "entries"))
	if len(files) != 3 {
		t.Fatalf("%d entry files on disk", len(files))
	}
	// An entry larger than the whole cache is not stored and evicts nothing.
	big := strings.Repeat("y", int(4*one))
	if err := c.Put(Key(request("big")), entry(big)); err != nil {
		t.Fatal(err)
	}
	if n2, _ := c.Stats(); n2 != 3 {
		t.Fatalf("oversized entry changed the cache: %d entries", n2)
	}
}

func TestDamageIsAMiss(t *testing.T) {
	dir := t.TempDir()
	c := Open(dir, 1<<20)
	k1, k2 := Key(request("1")), Key(request("2"))
	c.Put(k1, entry("one"))
	c.Put(k2, entry("two"))
	// A damaged index is rebuilt from the entry files.
	os.WriteFile(filepath.Join(dir, "index.json"), []byte("{garbage"), 0o644)
	if e, ok := c.Get(k1); !ok || e.Text != "one" {
		t.Fatalf("entry lost with the index: %v %v", e, ok)
	}
	// A damaged entry is a miss and is removed.
	os.WriteFile(filepath.Join(dir, "entries", k2+".json"), []byte(`{"key":"`+k2+`","output":`), 0o644)
	if _, ok := c.Get(k2); ok {
		t.Fatal("damaged entry was a hit")
	}
	if _, err := os.Stat(filepath.Join(dir, "entries", k2+".json")); !os.IsNotExist(err) {
		t.Fatal("damaged entry kept")
	}
	// An entry file holding another key's result is never served.
	os.WriteFile(filepath.Join(dir, "entries", k2+".json"), []byte(`{"key":"`+k1+`"}`), 0o644)
	os.Remove(filepath.Join(dir, "index.json"))
	if _, ok := c.Get(k2); ok {
		t.Fatal("mislabelled entry was a hit")
	}
	// An orphan file (crash between entry and index) is cleaned on Put.
	orphan := Key(request("orphan"))
	os.WriteFile(filepath.Join(dir, "entries", orphan+".json"), []byte(`{}`), 0o644)
	c.saveIndex(func() *index { ix := c.loadIndex(); delete(ix.Entries, orphan); return ix }())
	c.Put(Key(request("3")), entry("three"))
	if _, err := os.Stat(filepath.Join(dir, "entries", orphan+".json")); !os.IsNotExist(err) {
		t.Fatal("orphan entry file kept")
	}
}

func TestConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Open(dir, 1<<20)
			c.Put(Key(request(fmt.Sprint(i))), entry(fmt.Sprint(i)))
		}()
	}
	wg.Wait()
	if n, _ := Open(dir, 1<<20).Stats(); n != 8 {
		t.Fatalf("%d of 8 concurrent entries indexed", n)
	}
}

func TestModelIdentity(t *testing.T) {
	dir := t.TempDir()
	c := Open(filepath.Join(dir, "cache"), 1<<20)
	model := filepath.Join(dir, "m.bin")
	os.WriteFile(model, []byte("weights v1"), 0o644)
	sum := sha256.Sum256([]byte("weights v1"))
	id, err := c.ModelIdentity(model)
	if err != nil || id != "file:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("identity %q %v", id, err)
	}
	// The hash is remembered while size and mtime hold...
	if ix := c.loadIndex(); ix.Files[model].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash not remembered: %+v", ix.Files)
	}
	// ...and recomputed when the file changes.
	os.WriteFile(model, []byte("weights v2"), 0o644)
	os.Chtimes(model, time.Now(), time.Now().Add(time.Second))
	id2, _ := c.ModelIdentity(model)
	if id2 == id {
		t.Fatal("changed file kept its identity")
	}

	pkg := filepath.Join(dir, "pkg")
	os.Mkdir(pkg, 0o755)
	os.WriteFile(filepath.Join(pkg, "manifest.json"), []byte(`{"algorithm":"sha256","files":[]}`), 0o644)
	if id, err := c.ModelIdentity(pkg); err != nil || !strings.HasPrefix(id, "omex-manifest:") {
		t.Fatalf("package identity %q %v", id, err)
	}
	hf := filepath.Join(dir, "hf")
	os.Mkdir(hf, 0o755)
	os.WriteFile(filepath.Join(hf, "config.json"), []byte(`{}`), 0o644)
	a, _ := c.ModelIdentity(hf)
	os.WriteFile(filepath.Join(hf, "model.safetensors"), []byte(`x`), 0o644)
	b, _ := c.ModelIdentity(hf)
	if !strings.HasPrefix(a, "dir:") || a == b {
		t.Fatalf("directory identities %q %q", a, b)
	}
	if _, err := c.ModelIdentity(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("absent model has an identity")
	}
}

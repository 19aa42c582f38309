package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/omex-dev/omex/omexerr"
)

// ModelIdentity names a model's content, not its path: an OMEX package by
// the SHA-256 of its manifest.json (which holds every other file's
// SHA-256), a file by its SHA-256, any other directory (a Hugging Face
// model) by the SHA-256 of its files' names and hashes. File hashes are
// remembered in the index while a file's size and mtime are unchanged, so
// a large model is hashed once.
func (c *Cache) ModelIdentity(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", omexerr.Inputf("input.not_found", "cannot resolve the model path").WithFile(path).Wrap(err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", omexerr.Inputf("input.not_found", "cannot open the model").WithFile(path).Wrap(err)
	}
	if !st.IsDir() {
		h, err := c.fileSHA256(abs)
		if err != nil {
			return "", err
		}
		return "file:" + h, nil
	}
	if b, err := os.ReadFile(filepath.Join(abs, "manifest.json")); err == nil {
		sum := sha256.Sum256(b)
		return "omex-manifest:" + hex.EncodeToString(sum[:]), nil
	}
	var files []string
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", omexerr.Inputf("input.unreadable", "cannot list the model directory").WithFile(path).Wrap(err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		fh, err := c.fileSHA256(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(abs, f)
		io.WriteString(h, filepath.ToSlash(rel)+"\x00"+fh+"\n")
	}
	return "dir:" + hex.EncodeToString(h.Sum(nil)), nil
}

// fileSHA256 hashes a file, or returns the hash remembered for it.
func (c *Cache) fileSHA256(abs string) (string, error) {
	st, err := os.Stat(abs)
	if err != nil {
		return "", omexerr.Inputf("input.not_found", "cannot open the model file").WithFile(abs).Wrap(err)
	}
	want := fileHash{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	if unlock, err := c.lock(false); err == nil {
		known, ok := c.loadIndex().Files[abs]
		unlock()
		if ok && known.Size == want.Size && known.ModTime == want.ModTime {
			return known.SHA256, nil
		}
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", omexerr.Inputf("input.unreadable", "cannot read the model file").WithFile(abs).Wrap(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", omexerr.Inputf("input.unreadable", "cannot read the model file").WithFile(abs).Wrap(err)
	}
	want.SHA256 = hex.EncodeToString(h.Sum(nil))
	if c.Enabled() {
		if unlock, err := c.lock(true); err == nil {
			ix := c.loadIndex()
			ix.Files[abs] = want
			c.saveIndex(ix)
			unlock()
		}
	}
	return want.SHA256, nil
}

package format

import (
	"encoding/hex"
	"io/fs"

	"github.com/omex-dev/omex/omexerr"
)

// Manifest is manifest.json: the size and SHA-256 of every other file of
// the package, sorted by path, so Verify can detect any change.
type Manifest struct {
	Algorithm string          `json:"algorithm"` // "sha256"
	Files     []ManifestEntry `json:"files"`
}

// ManifestEntry is one file: its slash-separated path relative to the
// package directory, its size in bytes and its SHA-256 in lower-case hex.
type ManifestEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// validate checks the manifest's own form: known algorithm, clean relative
// paths in strictly ascending order, well-formed sizes and digests.
func (m *Manifest) validate() *omexerr.Error {
	bad := func(format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_manifest", format, args...).WithFile(ManifestFile)
	}
	if m.Algorithm != "sha256" {
		return bad("algorithm %q, want sha256", m.Algorithm)
	}
	for i, e := range m.Files {
		if !fs.ValidPath(e.Path) || e.Path == "." || e.Path == ManifestFile {
			return bad("entry %d: path %q is not a file path inside the package", i, e.Path)
		}
		if i > 0 && e.Path <= m.Files[i-1].Path {
			return bad("entry %d: path %q is not after %q (paths must be sorted and unique)", i, e.Path, m.Files[i-1].Path)
		}
		if e.Size < 0 {
			return bad("entry %q: negative size", e.Path)
		}
		if d, err := hex.DecodeString(e.SHA256); err != nil || len(d) != 32 || hex.EncodeToString(d) != e.SHA256 {
			return bad("entry %q: sha256 %q is not 64 lower-case hex digits", e.Path, e.SHA256)
		}
	}
	return nil
}

package format

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Verify checks the package at dir and returns the first failure as a
// ModelError naming the file (and the tensor and offset when they apply).
// In order: manifest.json is well formed; every file it lists exists as a
// regular file with the listed size; no file outside preprocessors/,
// postprocessors/ and extensions/ is missing from it; every listed file has
// the listed SHA-256; the package opens (see Open); every record header
// agrees with the index; and every weight file ends with its last record.
func Verify(dir string) error {
	if e := verify(dir); e != nil {
		return e
	}
	return nil
}

// verify is Verify with a concrete error type.
func verify(dir string) *omexerr.Error {
	var m Manifest
	if e := readJSON(dir, ManifestFile, &m); e != nil {
		return e
	}
	if e := m.validate(); e != nil {
		return e
	}
	listed := make(map[string]bool, len(m.Files))
	for _, ent := range m.Files {
		listed[ent.Path] = true
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(ent.Path)))
		if err != nil {
			return openError(ent.Path, err)
		}
		if !st.Mode().IsRegular() {
			return omexerr.Modelf("model.bad_file", "not a regular file").WithFile(ent.Path)
		}
		if st.Size() != ent.Size {
			return omexerr.Modelf("model.size_mismatch", "file has %d bytes, the manifest says %d", st.Size(), ent.Size).WithFile(ent.Path).WithOffset(min(st.Size(), ent.Size))
		}
	}
	if e := checkUnlisted(dir, listed); e != nil {
		return e
	}
	for _, ent := range m.Files {
		sum, e := hashFile(dir, ent.Path)
		if e != nil {
			return e
		}
		if sum != ent.SHA256 {
			return omexerr.Modelf("model.checksum_mismatch", "sha256 is %s, the manifest says %s", sum, ent.SHA256).WithFile(ent.Path)
		}
	}
	p, e := open(dir)
	if e != nil {
		return e
	}
	return checkRecords(p)
}

// checkUnlisted walks the package and fails on any file the manifest does
// not list (outside the user directories) and on anything that is not a
// regular file or directory, such as a symlink that could point outside.
func checkUnlisted(dir string, listed map[string]bool) *omexerr.Error {
	var found *omexerr.Error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(dir, path)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			found = omexerr.Modelf("model.bad_file", "not a regular file or directory").WithFile(rel)
			return fs.SkipAll
		}
		if rel == ManifestFile || listed[rel] || inUserDir(rel) {
			return nil
		}
		found = omexerr.Modelf("model.unlisted_file", "file is not in the manifest").WithFile(rel)
		return fs.SkipAll
	})
	if found != nil {
		return found
	}
	if err != nil {
		return ioError("cannot walk the package", dir, err)
	}
	return nil
}

// inUserDir reports whether rel lies in a directory meant for files added
// after import.
func inUserDir(rel string) bool {
	for _, d := range userDirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// hashFile returns the SHA-256 of dir/rel in lower-case hex.
func hashFile(dir, rel string) (string, *omexerr.Error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return "", openError(rel, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", ioError("cannot read", rel, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkRecords reads every record header against the index, and checks
// that each weight file holds at least one record and ends with its last.
func checkRecords(p *Package) *omexerr.Error {
	ends := map[string]int64{}
	var order []string
	for i := range p.Index.Tensors {
		e := &p.Index.Tensors[i]
		rel := WeightsDir + "/" + e.File
		if _, seen := ends[rel]; !seen {
			order = append(order, rel)
		}
		f, err := os.Open(filepath.Join(p.Dir, filepath.FromSlash(rel)))
		if err != nil {
			return openError(rel, err).WithTensor(e.Name)
		}
		_, re := readRecord(f, rel, e, false)
		f.Close()
		if re != nil {
			return re
		}
		ends[rel] = max(ends[rel], e.DataOffset+e.DataBytes)
	}
	for _, rel := range order {
		st, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(rel)))
		if err != nil {
			return openError(rel, err)
		}
		if st.Size() != ends[rel] {
			return omexerr.Modelf("model.trailing_data", "file has %d bytes but its last record ends at %d", st.Size(), ends[rel]).WithFile(rel).WithOffset(ends[rel])
		}
	}
	ents, err := os.ReadDir(filepath.Join(p.Dir, WeightsDir))
	if err != nil {
		return ioError("cannot list weights", WeightsDir, err)
	}
	for _, d := range ents {
		rel := WeightsDir + "/" + d.Name()
		if _, ok := ends[rel]; !ok && rel != IndexFile && rel != QuantizationFile {
			return omexerr.Modelf("model.unlisted_file", "weights/ may hold only index.json, quantization.json and weight files with indexed records").WithFile(rel)
		}
	}
	return nil
}

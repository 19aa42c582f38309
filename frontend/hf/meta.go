package hf

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/frontend"
)

// meta builds the descriptive information of a model directory.
func meta(dir string, c *hfConfig) frontend.Meta {
	m := frontend.Meta{
		Name:         c.NameOrPath,
		Architecture: c.Arch,
		SourceFormat: "safetensors",
		License:      readmeLicense(filepath.Join(dir, "README.md")),
		Description:  strings.Join(c.Notes, "; "),
	}
	// _name_or_path is a hub id ("org/model") or, when the model was saved
	// from a local copy, a path whose last element is the useful part.
	if strings.HasPrefix(m.Name, "/") || strings.HasPrefix(m.Name, ".") || strings.Contains(m.Name, `\`) {
		m.Name = filepath.Base(filepath.ToSlash(strings.ReplaceAll(m.Name, `\`, "/")))
	}
	if m.Name == "" || m.Name == "." || m.Name == "/" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			abs = dir
		}
		m.Name = filepath.Base(abs)
	}
	return m
}

// readmeLicense returns the "license:" of a model card's YAML front matter
// (the block between the first two "---" lines), or "" when there is none.
// Only that one flat key is read; a full YAML parser is not worth it here.
func readmeLicense(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "---" {
		return ""
	}
	for lines := 0; sc.Scan() && lines < 1000; lines++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "---" {
			break
		}
		if v, ok := strings.CutPrefix(line, "license:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

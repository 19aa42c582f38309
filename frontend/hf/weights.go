package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"github.com/omex-dev/omex/frontend/safetensors"
	"github.com/omex-dev/omex/omexerr"
)

// The weight files of a Hugging Face directory, in transformers' order of
// preference: one file, or shards listed by an index.
const (
	singleFile = "model.safetensors"
	indexFile  = "model.safetensors.index.json"
)

// maxJSONFile bounds the small JSON files we read whole (configs, indexes).
const maxJSONFile = 64 << 20

// stored is one tensor as a safetensors file holds it.
type stored struct {
	file *safetensors.File
	info safetensors.TensorInfo
}

// weights is the set of safetensors files of a model and the tensors they
// hold, by Hugging Face name, aliases included.
type weights struct {
	main   string // model.safetensors or the index: the file errors name when no shard is at fault
	files  []*safetensors.File
	byName map[string]stored
}

// openWeights opens the directory's safetensors file or shards.
func openWeights(dir string) (*weights, error) {
	w := &weights{byName: map[string]stored{}}
	single := filepath.Join(dir, singleFile)
	index := filepath.Join(dir, indexFile)
	var shardMap map[string]string
	switch {
	case fileExists(single):
		w.main = single
		if err := w.add(single); err != nil {
			w.close()
			return nil, err
		}
	case fileExists(index):
		w.main = index
		var err error
		if shardMap, err = readIndex(index); err != nil {
			return nil, err
		}
		var shards []string
		for _, f := range shardMap {
			if !slices.Contains(shards, f) {
				shards = append(shards, f)
			}
		}
		slices.Sort(shards)
		for _, s := range shards {
			if err := w.add(filepath.Join(dir, s)); err != nil {
				w.close()
				return nil, err
			}
		}
	case fileExists(filepath.Join(dir, "pytorch_model.bin")) || fileExists(filepath.Join(dir, "pytorch_model.bin.index.json")):
		return nil, omexerr.Modelf("model.unsupported_format", "PyTorch pickle weights are not supported; convert them to safetensors").
			WithFile(filepath.Join(dir, "pytorch_model.bin"))
	default:
		return nil, omexerr.Modelf("model.missing_file", "no %s or %s in the model directory", singleFile, indexFile).WithFile(dir)
	}
	// The index must not promise a tensor its shard lacks.
	for name, shard := range shardMap {
		s, ok := w.byName[name]
		if !ok || s.file.Name != filepath.Join(dir, shard) {
			return nil, w.failClose(omexerr.Modelf("model.missing_tensor", "the index places tensor %q in %s, which does not hold it", name, shard).
				WithFile(filepath.Join(dir, shard)).WithTensor(name))
		}
	}
	w.resolveAliases()
	return w, nil
}

// add opens one safetensors file and registers its tensors.
func (w *weights) add(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		if oe, ok := omexerr.As(err); ok && oe.Category == omexerr.Input {
			// A shard the index names but that is absent is a broken model.
			return omexerr.Modelf("model.missing_file", "weight file is missing or unreadable").WithFile(path).Wrap(err)
		}
		return err
	}
	w.files = append(w.files, f)
	for _, t := range f.Tensors {
		if prev, dup := w.byName[t.Name]; dup {
			return omexerr.Modelf("model.bad_tensor", "tensor %q is stored in both %s and %s", t.Name, prev.file.Name, path).
				WithFile(path).WithTensor(t.Name).WithOffset(f.DataStart + t.Begin)
		}
		w.byName[t.Name] = stored{f, t}
	}
	return nil
}

// resolveAliases adds the names that safetensors' save_model recorded in a
// file's metadata when it dropped a tensor sharing storage with another
// (tied weights are saved once): the metadata maps the dropped name to the
// name that was kept. Only an entry whose key is not a stored tensor and
// whose value is one is taken as an alias, so ordinary metadata such as
// "format": "pt" is left alone.
func (w *weights) resolveAliases() {
	for _, f := range w.files {
		for alias, target := range f.Metadata {
			if _, isStored := w.byName[alias]; isStored {
				continue
			}
			if t, ok := w.byName[target]; ok && t.info.Name == target {
				w.byName[alias] = t
			}
		}
	}
}

// readIndex reads the weight_map of a sharded checkpoint's index, checking
// that every shard is a plain file name inside the directory.
func readIndex(path string) (map[string]string, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, omexerr.Modelf("model.bad_index", "shard index is not valid JSON").WithFile(path).Wrap(err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, omexerr.Modelf("model.bad_index", "shard index has no weight_map").WithFile(path)
	}
	for name, shard := range idx.WeightMap {
		if !filepath.IsLocal(shard) {
			return nil, omexerr.Modelf("model.bad_index", "shard %q of tensor %q is not a file inside the model directory", shard, name).
				WithFile(path).WithTensor(name)
		}
	}
	return idx.WeightMap, nil
}

// failClose closes the files and returns err, for errors after opening.
func (w *weights) failClose(err error) error {
	w.close()
	return err
}

// close closes every opened file.
func (w *weights) close() error {
	var first error
	for _, f := range w.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	w.files = nil
	return first
}

// readSmallFile reads a JSON side file whole, refusing absurd sizes.
func readSmallFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, omexerr.Modelf("model.missing_file", "cannot read file").WithFile(path).Wrap(err)
	}
	if st.Size() > maxJSONFile {
		return nil, omexerr.Modelf("model.bad_config", "file of %d bytes is too large for a JSON side file", st.Size()).WithFile(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, omexerr.Modelf("model.missing_file", "cannot read file").WithFile(path).Wrap(err)
	}
	return data, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

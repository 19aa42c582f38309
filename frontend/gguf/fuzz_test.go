package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return a File or a
// ModelError naming the file, never panic; and a parsed file's derived
// config, tokenizer and tensors must be readable without panicking.
func FuzzParse(f *testing.F) {
	f.Add(minimalFile())
	f.Add([]byte("GGUF"))
	f.Add(tinyModelFile(tinyModel{arch: "qwen2", dim: 32, hidden: 32, layers: 1, heads: 4, kvHeads: 2, vocab: 4, bias: true, untied: true, typ: GGMLQ8_0}))
	f.Add(tinyModelFile(tinyModel{arch: "llama", dim: 32, hidden: 32, layers: 1, heads: 2, kvHeads: 1, vocab: 3, typ: GGMLQ4_0}))
	// The real model files are too large to mutate quickly, so they seed
	// their header (everything before the tensor data), and the smallest
	// vocab-only file seeds whole.
	if td, err := testfiles.SharedPath(""); err == nil {
		for _, rel := range []string{
			"models/stories260K/stories260K.gguf",
			"models/tinystories-656k/TinyStories-656K-Q8_0.alt.gguf",
			"tokenizers/vocab-tests/ggml-vocab-bert-bge.gguf",
		} {
			b, err := os.ReadFile(filepath.Join(td, rel))
			if err != nil {
				continue
			}
			if g, err := parseBytes(b); err == nil && len(g.TensorInfos()) > 0 {
				b = b[:g.DataOffset()]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(bytes.NewReader(data), int64(len(data)), "fuzz.gguf")
		if err != nil {
			e, ok := omexerr.As(err)
			if !ok || e.Category != omexerr.Model || e.File != "fuzz.gguf" {
				t.Fatalf("error is not a ModelError naming the file: %v", err)
			}
			return
		}
		_ = g.Meta()
		_, _ = g.ModelConfig()
		_, _ = g.TokenizerSpec()
		for _, kv := range g.KVs() {
			_ = kv.TypeName()
		}
		for _, info := range g.Tensors() {
			if _, err := g.ReadTensor(info.Name); err != nil {
				if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Model {
					t.Fatalf("ReadTensor: %v", err)
				}
			}
		}
	})
}

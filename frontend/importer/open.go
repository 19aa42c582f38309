package importer

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/gguf"
	"github.com/omex-dev/omex/frontend/hf"
	"github.com/omex-dev/omex/frontend/llama2c"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// OpenOptions carry what some inputs need besides their path.
type OpenOptions struct {
	// Tokenizer is the tokenizer file for inputs that do not contain one
	// (a llama2.c checkpoint needs its tokenizer.bin).
	Tokenizer string
}

// Kind names what an input path holds.
type Kind string

// The input kinds Open understands.
const (
	KindOMEX        Kind = "omex"
	KindGGUF        Kind = "gguf"
	KindHuggingFace Kind = "huggingface"
	KindLlama2c     Kind = "llama2c"
)

// Detect tells what kind of model input path is, from its contents: an OMEX
// package or Hugging Face directory, a GGUF file (by magic), or a llama2.c
// checkpoint (anything else that is a regular file; its parser checks it).
func Detect(path string) (Kind, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", omexerr.Inputf("input.not_found", "cannot open the model").WithFile(path).Wrap(err)
	}
	if st.IsDir() {
		switch {
		case exists(filepath.Join(path, "graph.json")) && exists(filepath.Join(path, "metadata.json")):
			return KindOMEX, nil
		case exists(filepath.Join(path, "config.json")):
			return KindHuggingFace, nil
		}
		return "", omexerr.Inputf("input.unknown_model", "directory is neither an OMEX package (graph.json, metadata.json) nor a Hugging Face model (config.json)").WithFile(path)
	}
	magic, err := readMagic(path)
	if err != nil {
		return "", err
	}
	if string(magic) == "GGUF" {
		return KindGGUF, nil
	}
	return KindLlama2c, nil
}

// Open opens any supported model input as a Source.
func Open(path string, opt OpenOptions) (frontend.Source, error) {
	kind, err := Detect(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindOMEX:
		return OpenPackage(path)
	case KindHuggingFace:
		return hf.Open(path)
	case KindGGUF:
		return gguf.Open(path)
	default:
		return llama2c.Open(path, opt.Tokenizer)
	}
}

// OpenTokenizer loads the tokenizer of any model input Open accepts, or a
// bare tokenizer file: tokenizer.json, vocab.json (+ merges.txt beside it),
// a SentencePiece .model, a tiktoken ranks file, a llama2.c tokenizer.bin,
// or a vocab-only GGUF.
func OpenTokenizer(path string) (tokenizer.Spec, error) {
	st, err := os.Stat(path)
	if err != nil {
		return tokenizer.Spec{}, omexerr.Inputf("input.not_found", "cannot open the tokenizer").WithFile(path).Wrap(err)
	}
	base := strings.ToLower(filepath.Base(path))
	switch {
	case st.IsDir():
		if !exists(filepath.Join(path, "graph.json")) && !exists(filepath.Join(path, "config.json")) && exists(filepath.Join(path, "tokenizer.json")) {
			return tokenizer.LoadHFJSON(filepath.Join(path, "tokenizer.json"))
		}
		src, err := Open(path, OpenOptions{})
		if err != nil {
			return tokenizer.Spec{}, err
		}
		defer src.Close()
		return src.Tokenizer(), nil
	case base == "vocab.json" || base == "merges.txt":
		dir := filepath.Dir(path)
		return tokenizer.LoadVocabMerges(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"))
	case strings.HasSuffix(base, ".json"):
		return tokenizer.LoadHFJSON(path)
	}
	magic, err := readMagic(path)
	if err != nil {
		return tokenizer.Spec{}, err
	}
	switch {
	case string(magic) == "GGUF":
		f, err := gguf.Open(path)
		if err != nil {
			return tokenizer.Spec{}, err
		}
		defer f.Close()
		return f.TokenizerSpec()
	case strings.HasSuffix(base, ".model"):
		// SentencePiece models are protobuf (first byte 0x0a: field 1,
		// length-delimited); tiktoken rank files are base64 text.
		if magic[0] == 0x0a {
			return tokenizer.LoadSentencePieceModel(path)
		}
		return tokenizer.LoadTiktoken(path)
	case strings.HasSuffix(base, ".tiktoken"):
		return tokenizer.LoadTiktoken(path)
	}
	return tokenizer.LoadLlama2cBin(path, 0)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readMagic(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, omexerr.Inputf("input.not_found", "cannot open the file").WithFile(path).Wrap(err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return nil, omexerr.Modelf("model.truncated", "file is shorter than 4 bytes").WithFile(path).WithOffset(0)
	}
	return bytes.Clone(magic), nil
}

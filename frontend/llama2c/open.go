package llama2c

import (
	"os"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// Open opens the llama2.c checkpoint at checkpointPath with the
// tokenizer.bin at tokenizerPath. The file stays open, for ReadTensor,
// until Close.
func Open(checkpointPath, tokenizerPath string) (*Checkpoint, error) {
	if tokenizerPath == "" {
		return nil, omexerr.Inputf("input.tokenizer_required", "llama2.c checkpoints carry no tokenizer: give the model's tokenizer.bin").WithFile(checkpointPath).WithFlag("--tokenizer")
	}
	f, err := os.Open(checkpointPath)
	if err != nil {
		return nil, omexerr.Inputf("input.not_found", "cannot open the checkpoint").WithFile(checkpointPath).Wrap(err)
	}
	c, err := openFile(f, checkpointPath, tokenizerPath)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// openFile parses the opened checkpoint, then loads its tokenizer.
func openFile(f *os.File, checkpointPath, tokenizerPath string) (*Checkpoint, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, omexerr.Inputf("input.not_found", "cannot stat the checkpoint").WithFile(checkpointPath).Wrap(err)
	}
	c, err := parseWeights(f, st.Size(), checkpointPath)
	if err != nil {
		return nil, err
	}
	// Read the whole tokenizer.bin, not just the checkpoint's vocab_size
	// tokens as run.c does, so a tokenizer of another model is caught.
	tok, err := tokenizer.LoadLlama2cBin(tokenizerPath, 0)
	if err != nil {
		return nil, err
	}
	if err := checkVocab(checkpointPath, tokenizerPath, len(tok.Tokens), c.hdr.vocab); err != nil {
		return nil, err
	}
	c.tok = tok
	return c, nil
}

// checkVocab reports a ModelError when the tokenizer's size (n tokens) is
// not the checkpoint's vocab size.
func checkVocab(checkpointPath, tokenizerPath string, n, vocab int) error {
	if n == vocab {
		return nil
	}
	tok := "the tokenizer"
	if tokenizerPath != "" {
		tok = "tokenizer " + tokenizerPath
	}
	return omexerr.Modelf("model.vocab_mismatch", "%s has %d tokens but the checkpoint's vocab size is %d: it is not this model's tokenizer", tok, n, vocab).WithFile(checkpointPath)
}

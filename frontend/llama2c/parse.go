package llama2c

import (
	"io"

	"github.com/omex-dev/omex/runtime/tokenizer"
)

// Parse reads the header of a llama2.c checkpoint of size bytes from r and
// places every tensor, checking that they fill the file exactly. name is the
// file's name, for errors and Meta. tok is the model's tokenizer; its vocab
// size must equal the checkpoint's. r must stay readable while the
// Checkpoint is in use; Close does not close it.
func Parse(r io.ReaderAt, size int64, name string, tok tokenizer.Spec) (*Checkpoint, error) {
	c, err := parseWeights(r, size, name)
	if err != nil {
		return nil, err
	}
	if err := checkVocab(name, "", len(tok.Tokens), c.hdr.vocab); err != nil {
		return nil, err
	}
	c.tok = tok
	return c, nil
}

// parseWeights is Parse without the tokenizer: header and tensor places.
func parseWeights(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	h, err := parseHeader(r, size, name)
	if err != nil {
		return nil, err
	}
	fileOrder, err := layoutOf(&h, size, name)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{r: r, name: name, hdr: h, entries: canonicalOrder(&h, fileOrder)}
	c.byName = make(map[string]*entry, len(c.entries))
	for i := range c.entries {
		c.byName[c.entries[i].name] = &c.entries[i]
	}
	return c, nil
}

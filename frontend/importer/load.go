package importer

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// NewTokenizer builds the tokenizer a spec describes; path names the model
// or tokenizer input it came from, so that a spec the tokenizer refuses is
// reported as that input's fault.
func NewTokenizer(spec tokenizer.Spec, path string) (*tokenizer.Tokenizer, error) {
	tok, err := tokenizer.New(spec)
	if err != nil {
		return nil, omexerr.Modelf("model.tokenizer", "cannot build the tokenizer").WithFile(path).Wrap(err)
	}
	return tok, nil
}

// LoadReference opens any supported model input and builds the reference
// runtime's model and its tokenizer: what runs a model without compiling
// it. tokPath is the tokenizer file for inputs that do not carry one.
func LoadReference(path, tokPath string) (*model.Model, *tokenizer.Tokenizer, error) {
	src, err := Open(path, OpenOptions{Tokenizer: tokPath})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	tok, err := NewTokenizer(src.Tokenizer(), path)
	if err != nil {
		return nil, nil, err
	}
	m, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

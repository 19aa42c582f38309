package tokenizer

import (
	"fmt"
)

// Tokenizer encodes text to ids and decodes ids to text for one vocabulary.
type Tokenizer struct {
	spec Spec
	impl encoder
	// special maps the text of special/added tokens (types control and
	// user-defined) to their ids, for ParseSpecial.
	special map[string]int
	// specialOrder lists the special tokens Encode cuts out of text, in
	// the order it tries them (see specialOrder in encode.go).
	specialOrder []int
}

// encoder is what each algorithm (spm.go, bpe.go, wordpiece.go) provides.
type encoder interface {
	// encode turns plain text (no special tokens in it) into ids.
	encode(text string) []int
	// piece returns the bytes that id stands for in decoded text, with any
	// algorithm-specific mapping undone (▁ to space, byte tokens to bytes,
	// GPT-2 byte alphabet to bytes). It never strips a leading space; the
	// caller decides that.
	piece(id int) []byte
}

// EncodeOptions control one Encode call.
type EncodeOptions struct {
	AddBOS       bool // prepend the BOS id (when the vocabulary has one)
	AddEOS       bool // append the EOS id
	ParseSpecial bool // recognise special/added token texts like "<s>" in the input
}

// New builds a tokenizer from a spec.
func New(spec Spec) (*Tokenizer, error) {
	if len(spec.Tokens) == 0 {
		return nil, fmt.Errorf("tokenizer: empty vocabulary")
	}
	if spec.Types != nil && len(spec.Types) != len(spec.Tokens) {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(spec.Types), len(spec.Tokens))
	}
	t := &Tokenizer{spec: spec}
	var err error
	switch spec.Kind {
	case SPM:
		t.impl, err = newSPM(&t.spec)
	case BPE:
		t.impl, err = newBPE(&t.spec)
	case WordPiece:
		t.impl, err = newWordPiece(&t.spec)
	default:
		return nil, fmt.Errorf("tokenizer: unknown kind %q", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	t.special = map[string]int{}
	for id, typ := range spec.Types {
		if typ == TypeControl || typ == TypeUserDefined {
			t.special[spec.Tokens[id]] = id
		}
	}
	t.specialOrder = specialOrder(&t.spec)
	return t, nil
}

// Spec returns the spec the tokenizer was built from.
func (t *Tokenizer) Spec() *Spec { return &t.spec }

// VocabSize is the number of ids.
func (t *Tokenizer) VocabSize() int { return len(t.spec.Tokens) }

package tokenizer

// Decode turns token ids back into text. Control and unknown tokens (BOS,
// EOS, <unk>, chat markers) produce nothing, as llama.cpp's detokenizer
// does without "special". When the vocabulary adds a space prefix on
// encode, the one space that prefix became is dropped again from the first
// piece of the text and from the first piece after each BOS, as llama2.c's
// run.c and sentencepiece do. Byte tokens are joined raw, so the result may
// hold invalid UTF-8 where the ids end inside a character.
func (t *Tokenizer) Decode(ids []int) string {
	st := t.newDecodeState()
	var out []byte
	for _, id := range ids {
		out = t.appendDecoded(out, id, &st)
	}
	return string(out)
}

// TokenPiece returns the raw bytes one token stands for in decoded text:
// nothing for control and unknown tokens and ids out of range, the byte of
// a byte token, and the piece's text with the algorithm's own mapping
// undone ("▁" to a space, GPT-2's byte alphabet to bytes). It never drops
// a leading space; Decode and StreamDecoder do that.
func (t *Tokenizer) TokenPiece(id int) []byte {
	if !t.validID(id) || t.isControl(id) {
		return nil
	}
	return t.impl.piece(id)
}

// isControl reports whether a token is invisible in decoded text. Without
// token types, the ids the spec names as BOS, EOS, PAD and UNK are.
func (t *Tokenizer) isControl(id int) bool {
	if t.spec.Types != nil {
		typ := t.spec.Types[id]
		return typ == TypeControl || typ == TypeUnknown
	}
	return id == t.spec.BOS || id == t.spec.EOS || id == t.spec.PAD || id == t.spec.UNK
}

// isByteToken reports whether a token stands for one raw byte (<0xXX>);
// such a byte is literal text, never a space prefix to drop.
func (t *Tokenizer) isByteToken(id int) bool {
	if t.spec.Types != nil {
		return t.spec.Types[id] == TypeByte
	}
	if t.spec.Kind != SPM {
		return false
	}
	_, ok := parseByteToken(t.spec.Tokens[id])
	return ok
}

// decodeState is what decoding carries from one token to the next.
type decodeState struct {
	// stripSpace: the next visible piece loses one leading space.
	stripSpace bool
}

func (t *Tokenizer) newDecodeState() decodeState {
	return decodeState{stripSpace: t.stripsLeadingSpace()}
}

// stripsLeadingSpace reports whether decoded text drops the space its first
// piece starts with: SentencePiece's dummy prefix, and WordPiece, whose
// word-start pieces decode with a separating space.
func (t *Tokenizer) stripsLeadingSpace() bool {
	return t.spec.AddSpacePrefix || t.spec.Kind == WordPiece
}

// appendDecoded appends the text of one token to dst.
func (t *Tokenizer) appendDecoded(dst []byte, id int, st *decodeState) []byte {
	if id == t.spec.BOS && t.validID(id) && t.stripsLeadingSpace() {
		st.stripSpace = true
	}
	p := t.TokenPiece(id)
	if len(p) == 0 {
		return dst
	}
	if st.stripSpace {
		st.stripSpace = false
		if p[0] == ' ' && !t.isByteToken(id) {
			p = p[1:]
		}
	}
	return append(dst, p...)
}

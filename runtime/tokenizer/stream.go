package tokenizer

import "unicode/utf8"

// StreamDecoder decodes ids one at a time while a model generates them,
// returning only whole UTF-8 characters: the bytes of a character spread
// over several byte tokens (an emoji, CJK text in byte fallback) are held
// until the character is complete. All its outputs together, Flush
// included, equal Decode of all the ids.
type StreamDecoder struct {
	t       *Tokenizer
	state   decodeState
	pending []byte // decoded bytes not yet returned
}

// NewStreamDecoder starts decoding a fresh sequence for t.
func NewStreamDecoder(t *Tokenizer) *StreamDecoder {
	return &StreamDecoder{t: t, state: t.newDecodeState()}
}

// Next decodes one more id and returns the text that is now complete,
// possibly "".
func (d *StreamDecoder) Next(id int) string {
	d.pending = d.t.appendDecoded(d.pending, id, &d.state)
	cut := incompleteTail(d.pending)
	out := string(d.pending[:cut])
	d.pending = append(d.pending[:0], d.pending[cut:]...)
	return out
}

// Flush returns whatever is still held, complete or not, and empties it.
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending = d.pending[:0]
	return out
}

// incompleteTail returns where a trailing, still incomplete UTF-8 sequence
// starts in b, or len(b) when there is none. Only a lead byte whose
// sequence could still be completed by more bytes is held back: invalid
// bytes can never become valid, so they are passed on as they are.
func incompleteTail(b []byte) int {
	for i := max(0, len(b)-utf8.UTFMax+1); i < len(b); i++ {
		if b[i] >= 0xC0 && !utf8.FullRune(b[i:]) {
			return i
		}
	}
	return len(b)
}

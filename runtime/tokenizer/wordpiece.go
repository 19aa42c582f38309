package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// wordPiece is BERT's tokenizer: the BasicTokenizer (Hugging Face's
// BertNormalizer and BertPreTokenizer) splits text into words, then each
// word is cut greedily into the longest vocabulary entries from its start,
// the pieces after the first spelled as continuations. A word with a part
// that matches nothing, or longer than 100 characters, becomes UNK whole.
//
// Vocabularies come in two spellings, both understood: BERT's own vocab.txt
// marks continuations with "##" ("##ing"), and llama.cpp's GGUF conversion
// marks word starts with "▁" instead ("▁play", "ing").
type wordPiece struct {
	spec  *Spec
	start map[string]int // pieces that may begin a word
	cont  map[string]int // continuation pieces, without their marker
	// spaceMarked: the vocabulary uses the "▁" spelling.
	spaceMarked bool
	unk         int
}

// wordPieceMaxChars is BERT's max_input_chars_per_word.
const wordPieceMaxChars = 100

func newWordPiece(spec *Spec) (encoder, error) {
	w := &wordPiece{spec: spec, start: map[string]int{}, cont: map[string]int{}, unk: spec.UNK}
	for _, tok := range spec.Tokens {
		if strings.HasPrefix(tok, "##") {
			w.spaceMarked = false
			break
		}
		if strings.HasPrefix(tok, "\u2581") {
			w.spaceMarked = true
		}
	}
	for id, tok := range spec.Tokens {
		key, m := tok, w.start
		if w.spaceMarked {
			if rest, ok := strings.CutPrefix(tok, "\u2581"); ok && rest != "" {
				key = rest
			} else if !w.special(id) {
				m = w.cont
			}
		} else if rest, ok := strings.CutPrefix(tok, "##"); ok && rest != "" {
			key, m = rest, w.cont
		}
		if _, dup := m[key]; !dup {
			m[key] = id
		}
	}
	if w.unk < 0 || w.unk >= len(spec.Tokens) {
		w.unk = -1
		if id, ok := w.start["[UNK]"]; ok {
			w.unk = id
		}
	}
	return w, nil
}

// special reports a control, unknown or user-defined token, spelled as-is
// in either vocabulary form.
func (w *wordPiece) special(id int) bool {
	if id >= len(w.spec.Types) {
		return false
	}
	t := w.spec.Types[id]
	return t == TypeControl || t == TypeUnknown || t == TypeUserDefined
}

// encode turns plain text into ids.
func (w *wordPiece) encode(text string) []int {
	var out []int
	for _, word := range w.words(text) {
		out = w.appendWord(out, word)
	}
	return out
}

// appendWord appends the pieces of one word, or UNK.
func (w *wordPiece) appendWord(out []int, word string) []int {
	if utf8.RuneCountInString(word) > wordPieceMaxChars {
		return w.appendUnk(out)
	}
	n := len(out)
	for pos := 0; pos < len(word); {
		m := w.start
		if pos > 0 {
			m = w.cont
		}
		// Longest match first, shrinking by whole characters.
		end := len(word)
		id := -1
		for end > pos {
			if got, ok := m[word[pos:end]]; ok {
				id = got
				break
			}
			_, size := utf8.DecodeLastRuneInString(word[pos:end])
			end -= size
		}
		if id < 0 {
			return w.appendUnk(out[:n])
		}
		out = append(out, id)
		pos = end
	}
	return out
}

func (w *wordPiece) appendUnk(out []int) []int {
	if w.unk >= 0 {
		out = append(out, w.unk)
	}
	return out
}

// words is BERT's BasicTokenizer: drop NUL, U+FFFD and control characters,
// turn whitespace into word breaks, lowercase and strip accents when the
// spec asks (NFD, then drop nonspacing marks; lowercasing follows, as in
// Hugging Face's BertNormalizer), and make every punctuation mark and CJK
// ideograph a word of its own.
func (w *wordPiece) words(text string) []string {
	if w.spec.StripAccents {
		text = norm.NFD.String(text)
	}
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || bertControl(r):
			continue
		case bertWhitespace(r):
			flush()
			continue
		case w.spec.StripAccents && unicode.Is(unicode.Mn, r):
			continue
		}
		s := string(r)
		if w.spec.Lowercase {
			s = lowerFull(r)
		}
		if bertPunct(r) || cjkIdeograph(r) {
			flush()
			words = append(words, s)
			continue
		}
		cur.WriteString(s)
	}
	flush()
	return words
}

// lowerFull lowercases one character as Rust's char::to_lowercase does,
// including the one unconditional multi-character mapping (İ).
func lowerFull(r rune) string {
	if r == 'İ' {
		return "i\u0307"
	}
	return string(unicode.ToLower(r))
}

// bertWhitespace is BERT's whitespace: tab, newline, carriage return and
// Unicode White_Space.
func bertWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.White_Space, r)
}

// bertControl is BERT's control class: Unicode "other" characters (Cc, Cf,
// Co, Cs), except the tab, newline and carriage return it counts as
// whitespace.
func bertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(unicode.C, r)
}

// bertPunct is BERT's punctuation: all ASCII punctuation and symbols, and
// Unicode punctuation (P*).
func bertPunct(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

// cjkIdeograph is BERT's "Chinese character" test: the CJK Unified
// Ideographs blocks and their extensions and compatibility blocks, with
// Hugging Face's bounds (extension E from U+2B920).
func cjkIdeograph(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// piece returns the text of a token for decoding: a continuation joins the
// previous piece directly, a word-start piece carries one leading space (the
// space between words; the caller drops the one at the start of the text),
// and special tokens are their text as-is. Punctuation pieces get a space
// too, so "hello, world" decodes as " hello , world" (BERT's decoder then
// cleans up such spaces; this one keeps pieces plain).
func (w *wordPiece) piece(id int) []byte {
	if id < 0 || id >= len(w.spec.Tokens) {
		return nil
	}
	tok := w.spec.Tokens[id]
	if w.special(id) {
		return []byte(tok)
	}
	if w.spaceMarked {
		if rest, ok := strings.CutPrefix(tok, "\u2581"); ok {
			return []byte(" " + rest)
		}
		return []byte(tok)
	}
	if rest, ok := strings.CutPrefix(tok, "##"); ok && rest != "" {
		return []byte(rest)
	}
	return []byte(" " + tok)
}

package tokenizer

import (
	"fmt"
	"strings"
)

// spaceMark is SentencePiece's visible space, U+2581 "▁".
const spaceMark = "\u2581"

// spm is SentencePiece-style BPE: the text is split into UTF-8 characters
// and the adjacent pair whose concatenation is a piece is merged, best
// first, until no pair is a piece (llama.cpp's llm_tokenizer_spm and
// sentencepiece's bpe::Model). "Best" is the highest score, or, when the
// spec lists merges (an HF tokenizer.json BPE model, whose vocabulary has
// no scores), the lowest merge rank; ties go to the leftmost pair.
type spm struct {
	spec *Spec
	// pieces maps the text of every piece a merge may produce (normal,
	// user-defined and unused pieces; never control, unknown or byte
	// pieces, as in sentencepiece) to its id.
	pieces map[string]int
	// byteID is the <0xXX> token of each byte, -1 when the vocabulary has
	// none; byteOf is the inverse, -1 for tokens that are not byte tokens.
	byteID [256]int
	byteOf []int16
	// ranks holds the merge rank of each (left id, right id) pair when the
	// spec ranks merges by order instead of by score.
	ranks map[uint64]int
}

func newSPM(spec *Spec) (encoder, error) {
	n := len(spec.Tokens)
	if spec.Scores != nil && len(spec.Scores) != n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(spec.Scores), n)
	}
	if spec.Types != nil && len(spec.Types) != n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(spec.Types), n)
	}
	m := &spm{spec: spec, pieces: make(map[string]int, n), byteOf: make([]int16, n)}
	for i := range m.byteID {
		m.byteID[i] = -1
	}
	for id, text := range spec.Tokens {
		m.byteOf[id] = -1
		b, isByteText := parseByteToken(text)
		if isByteText {
			// llama.cpp finds byte tokens by their text, whatever their type.
			if m.byteID[b] < 0 {
				m.byteID[b] = id
			}
			if spec.Types == nil || spec.Types[id] == TypeByte {
				m.byteOf[id] = int16(b)
			}
		}
		if m.mergeable(id, isByteText) {
			if _, dup := m.pieces[text]; !dup {
				m.pieces[text] = id
			}
		}
	}
	if len(spec.Merges) > 0 {
		m.ranks = make(map[uint64]int, len(spec.Merges))
		for rank, merge := range spec.Merges {
			left, right, ok := splitMerge(merge, m.pieces)
			if !ok {
				continue // HF rejects such a merge; llama.cpp skips it
			}
			key := pairKey(left, right)
			if _, dup := m.ranks[key]; !dup {
				m.ranks[key] = rank
			}
		}
	}
	return m, nil
}

// mergeable reports whether a merge may produce token id.
func (m *spm) mergeable(id int, isByteText bool) bool {
	if m.spec.Types == nil {
		return !isByteText
	}
	switch m.spec.Types[id] {
	case TypeControl, TypeUnknown, TypeByte:
		return false
	}
	return true
}

// splitMerge finds the two pieces of a "left right" merge. A piece may
// itself contain a space, so every split point is tried until both halves
// and their concatenation are pieces.
func splitMerge(merge string, pieces map[string]int) (left, right int, ok bool) {
	for i := 0; i < len(merge); i++ {
		if merge[i] != ' ' {
			continue
		}
		l, okL := pieces[merge[:i]]
		r, okR := pieces[merge[i+1:]]
		if !okL || !okR {
			continue
		}
		if _, okM := pieces[merge[:i]+merge[i+1:]]; okM {
			return l, r, true
		}
	}
	return 0, 0, false
}

func pairKey(left, right int) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// parseByteToken reads a byte token's text, "<0xXX>" with upper-case hex.
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(s[3])
	lo, ok2 := hexDigit(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// charLen is the byte length of the character starting at text[off]: the
// length its lead byte announces (llama.cpp's unicode_len_utf8), cut short
// where a byte that is not a continuation byte comes first. For valid UTF-8
// that is simply the character. For invalid input llama.cpp would let a
// stray lead byte swallow the next characters (even the "▁" of a space)
// into byte tokens; stopping at them keeps those characters, so decoding
// still gives the input back. The ids differ from llama.cpp's only there.
func charLen(text string, off int) int {
	n := 1
	switch text[off] >> 4 {
	case 0xC, 0xD:
		n = 2
	case 0xE:
		n = 3
	case 0xF:
		n = 4
	}
	for k := 1; k < n; k++ {
		if off+k >= len(text) || text[off+k]&0xC0 != 0x80 {
			return k
		}
	}
	return n
}

// symbol is one run of text in the linked list being merged.
type symbol struct {
	start, n   int // text[start:start+n]
	prev, next int // neighbours, -1 at the ends
	id         int // the piece it spells, -1 when none (an unknown character)
}

// bigram is a candidate merge of two adjacent symbols.
type bigram struct {
	score       float64 // higher merges first
	left, right int32
	size        int32 // byte length of the merged text, to spot stale entries
	id          int32
}

// before orders the queue: higher score first, leftmost first on ties.
func (a *bigram) before(b *bigram) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.left < b.left
}

// bigramQueue is a binary max-heap of bigrams, typed rather than through
// container/heap because the heap is most of the encoding time.
type bigramQueue []bigram

func (q *bigramQueue) push(b bigram) {
	*q = append(*q, b)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *bigramQueue) pop() bigram {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		best, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(&h[best]) {
			best = l
		}
		if r < len(h) && h[r].before(&h[best]) {
			best = r
		}
		if best == i {
			break
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
	*q = h
	return top
}

// session is the state of one encode call.
type session struct {
	m       *spm
	text    string
	symbols []symbol
	queue   bigramQueue
	// revMerge remembers how an unused piece was formed, so that it can be
	// split back into pieces that are in use (sentencepiece's resegment).
	revMerge map[string][2]string
}

// encode tokenizes one text fragment: spaces become "▁", a "▁" is
// prepended when the spec says so (llama.cpp does this for every fragment
// between special tokens), then the fragment is merged.
func (m *spm) encode(text string) []int {
	if text == "" {
		return nil
	}
	if m.spec.AddSpacePrefix {
		text = " " + text
	}
	text = strings.ReplaceAll(text, " ", spaceMark)
	s := &session{m: m, text: text}
	for off := 0; off < len(text); {
		n := charLen(text, off)
		id := -1
		if v, ok := m.pieces[text[off:off+n]]; ok {
			id = v
		}
		next := len(s.symbols) + 1
		if off+n == len(text) {
			next = -1
		}
		s.symbols = append(s.symbols, symbol{start: off, n: n, prev: len(s.symbols) - 1, next: next, id: id})
		off += n
	}
	for i := 1; i < len(s.symbols); i++ {
		s.tryAdd(i-1, i)
	}
	for len(s.queue) > 0 {
		b := s.queue.pop()
		left := int(b.left)
		l, r := &s.symbols[left], &s.symbols[b.right]
		// A symbol merged since the pair was queued has changed length.
		if l.n == 0 || r.n == 0 || l.n+r.n != int(b.size) {
			continue
		}
		l.n += r.n
		l.id = int(b.id)
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.symbols[r.next].prev = left
		}
		s.tryAdd(l.prev, left)
		s.tryAdd(left, l.next)
	}
	var out []int
	for i := 0; i != -1; i = s.symbols[i].next {
		sym := s.symbols[i]
		out = s.resegment(s.text[sym.start:sym.start+sym.n], out)
	}
	return out
}

// tryAdd queues the merge of two adjacent symbols if it forms a piece.
func (s *session) tryAdd(left, right int) {
	if left < 0 || right < 0 {
		return
	}
	l, r := s.symbols[left], s.symbols[right]
	merged := s.text[l.start : l.start+l.n+r.n]
	id, ok := s.m.pieces[merged]
	if !ok {
		return
	}
	var score float64
	if s.m.ranks != nil {
		rank, ok := s.m.ranks[pairKey(l.id, r.id)]
		if !ok || l.id < 0 || r.id < 0 {
			return
		}
		score = -float64(rank)
	} else if s.m.spec.Scores != nil {
		score = float64(s.m.spec.Scores[id])
	}
	s.queue.push(bigram{score: score, left: int32(left), right: int32(right), size: int32(len(merged)), id: int32(id)})
	if s.m.spec.Types != nil && s.m.spec.Types[id] == TypeUnused {
		if s.revMerge == nil {
			s.revMerge = map[string][2]string{}
		}
		s.revMerge[merged] = [2]string{s.text[l.start : l.start+l.n], s.text[r.start : r.start+r.n]}
	}
}

// resegment appends the ids for one final symbol: its piece; the pieces an
// unused piece was merged from; or, for a character that is no piece, its
// bytes as <0xXX> tokens, or the unknown token (once for a run of them)
// when the vocabulary has no byte tokens.
func (s *session) resegment(text string, out []int) []int {
	if id, ok := s.m.pieces[text]; ok {
		if s.m.spec.Types != nil && s.m.spec.Types[id] == TypeUnused {
			if parts, ok := s.revMerge[text]; ok {
				out = s.resegment(parts[0], out)
				return s.resegment(parts[1], out)
			}
		}
		return append(out, id)
	}
	for i := 0; i < len(text); i++ {
		if id := s.m.byteID[text[i]]; id >= 0 {
			out = append(out, id)
			continue
		}
		unk := s.m.spec.UNK
		if unk < 0 || unk >= len(s.m.spec.Tokens) {
			continue // nothing can stand for this byte
		}
		if len(out) == 0 || out[len(out)-1] != unk {
			out = append(out, unk)
		}
	}
	return out
}

// piece returns the decoded bytes of a token: a byte token's byte, a
// user-defined, control or unknown token's text as it is, and a normal
// piece with "▁" turned back into spaces.
func (m *spm) piece(id int) []byte {
	if id < 0 || id >= len(m.spec.Tokens) {
		return nil
	}
	if b := m.byteOf[id]; b >= 0 {
		return []byte{byte(b)}
	}
	text := m.spec.Tokens[id]
	if m.spec.Types != nil {
		switch m.spec.Types[id] {
		case TypeUserDefined, TypeControl, TypeUnknown:
			return []byte(text)
		}
	}
	return []byte(strings.ReplaceAll(text, spaceMark, " "))
}

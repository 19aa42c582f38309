package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"sync"
)

// bpe is byte-level BPE (GPT-2, Llama 3, Qwen2, DeepSeek, ...). Text is split
// into words by the pre-tokenizer; each word's bytes become byte-level
// characters, one symbol each; then the adjacent pair with the lowest merge
// rank is merged, leftmost first among equals, until no pair has a rank.
//
// Ranks come from spec.Merges ("left right", in rank order). A spec with no
// merges is in rank mode, tiktoken's rule: a pair may merge when its
// concatenation is a token, and its rank is that token's id (tiktoken files
// number tokens by rank). Rank mode is exact for tiktoken, where a merges
// list derived from the ranks can order two splits of one token differently.
type bpe struct {
	spec     *Spec
	ids      map[string]int // token text (byte-level form) to id
	merges   map[bpePair]bpeMerge
	rankMode bool
	// ignoreMerges takes a word whole when it is a token (Hugging Face's
	// ignore_merges, set for Llama 3 and a few others).
	ignoreMerges bool
	byteIDs      [256]int // id of each single byte's token, -1 if none
	pre          *preTokenizer

	mu    sync.Mutex
	cache map[string][]int
}

// bpePair is an adjacent pair of token ids.
type bpePair struct{ left, right int }

// bpeMerge is what a pair becomes, and how early it merges.
type bpeMerge struct{ rank, id int }

// bpeCacheMax bounds the word cache (it is emptied when full), and
// bpeCacheWordMax the length of the words it keeps: long words are rare and
// would only take memory.
const (
	bpeCacheMax     = 1 << 14
	bpeCacheWordMax = 256
)

// newBPE builds the byte-level BPE encoder of a spec.
func newBPE(spec *Spec) (encoder, error) {
	b := &bpe{
		spec:         spec,
		ids:          make(map[string]int, len(spec.Tokens)),
		rankMode:     len(spec.Merges) == 0,
		ignoreMerges: spec.IgnoreMerges || (len(spec.PreRegex) == 0 && preIgnoresMerges[spec.Pre]),
		cache:        map[string][]int{},
	}
	for id, tok := range spec.Tokens {
		if _, dup := b.ids[tok]; !dup && tok != "" {
			b.ids[tok] = id
		}
	}
	for i := range b.byteIDs {
		b.byteIDs[i] = -1
		if id, ok := b.ids[string(byteToRune[i])]; ok {
			b.byteIDs[i] = id
		}
	}
	if !b.rankMode {
		b.merges = make(map[bpePair]bpeMerge, len(spec.Merges))
		for rank, m := range spec.Merges {
			// Split at the first space after the first character, as
			// llama.cpp does; byte-level tokens never hold a space.
			sp := strings.IndexByte(m[min(1, len(m)):], ' ')
			if sp < 0 {
				return nil, fmt.Errorf("tokenizer: bpe merge %d %q has no space", rank, m)
			}
			sp += min(1, len(m))
			l, r := m[:sp], m[sp+1:]
			li, lok := b.ids[l]
			ri, rok := b.ids[r]
			ni, nok := b.ids[l+r]
			// Hugging Face refuses such merges; skipping them keeps a
			// sloppy vocabulary usable.
			if !lok || !rok || !nok || b.isControl(ni) {
				continue
			}
			k := bpePair{li, ri}
			if _, seen := b.merges[k]; !seen {
				b.merges[k] = bpeMerge{rank: rank, id: ni}
			}
		}
	}
	var err error
	if b.pre, err = newPreTokenizer(spec); err != nil {
		return nil, err
	}
	return b, nil
}

// encode turns plain text into ids.
func (b *bpe) encode(text string) []int {
	var out []int
	for _, word := range b.pre.split(text) {
		out = append(out, b.encodeWord(word)...)
	}
	return out
}

// encodeWord encodes one pre-tokenized word (raw bytes), through the cache.
func (b *bpe) encodeWord(word string) []int {
	b.mu.Lock()
	ids, ok := b.cache[word]
	b.mu.Unlock()
	if ok {
		return ids
	}
	ids = b.bpeWord(word)
	if len(word) > bpeCacheWordMax {
		return ids
	}
	b.mu.Lock()
	if len(b.cache) >= bpeCacheMax {
		clear(b.cache)
	}
	b.cache[word] = ids
	b.mu.Unlock()
	return ids
}

// bpeSymbol is one node of the word being merged: a token id and its
// neighbours; id -1 marks a byte with no token (dropped from the output, as
// Hugging Face and llama.cpp drop it), dead marks a symbol merged away.
type bpeSymbol struct {
	id         int
	prev, next int
	dead       bool
}

// bpeWord runs the merges over one word.
func (b *bpe) bpeWord(word string) []int {
	if word == "" {
		return nil
	}
	if b.ignoreMerges {
		if id, ok := b.ids[byteLevelEncode(word)]; ok && !b.isControl(id) {
			return []int{id}
		}
	}
	syms := make([]bpeSymbol, len(word))
	for i := 0; i < len(word); i++ {
		syms[i] = bpeSymbol{id: b.byteIDs[word[i]], prev: i - 1, next: i + 1}
	}
	syms[len(syms)-1].next = -1

	q := &bpeQueue{}
	for i := 0; i+1 < len(syms); i++ {
		b.push(q, syms, i)
	}
	for q.Len() > 0 {
		c := heap.Pop(q).(bpeCandidate)
		l := &syms[c.left]
		// Stale: either side has merged since the pair was queued.
		if l.dead || l.next != c.right || l.id != c.leftID || syms[c.right].id != c.rightID {
			continue
		}
		r := &syms[c.right]
		l.id = c.id
		l.next = r.next
		r.dead = true
		if r.next >= 0 {
			syms[r.next].prev = c.left
		}
		if l.prev >= 0 {
			b.push(q, syms, l.prev)
		}
		b.push(q, syms, c.left)
	}
	out := make([]int, 0, len(syms))
	for i := 0; i >= 0; i = syms[i].next {
		if syms[i].id >= 0 {
			out = append(out, syms[i].id)
		}
	}
	return out
}

// push queues the pair starting at symbol i, if it can merge.
func (b *bpe) push(q *bpeQueue, syms []bpeSymbol, i int) {
	j := syms[i].next
	if j < 0 {
		return
	}
	l, r := syms[i].id, syms[j].id
	if l < 0 || r < 0 {
		return
	}
	var m bpeMerge
	if b.rankMode {
		id, ok := b.ids[b.spec.Tokens[l]+b.spec.Tokens[r]]
		if !ok || b.isControl(id) {
			return
		}
		m = bpeMerge{rank: id, id: id}
	} else {
		var ok bool
		if m, ok = b.merges[bpePair{l, r}]; !ok {
			return
		}
	}
	heap.Push(q, bpeCandidate{rank: m.rank, left: i, right: j, leftID: l, rightID: r, id: m.id})
}

// isControl reports a control token: those are matched by the special-token
// splitter, never built by merges (tiktoken keeps them out of its ranks).
func (b *bpe) isControl(id int) bool {
	return id < len(b.spec.Types) && b.spec.Types[id] == TypeControl
}

// piece returns the bytes of a token: the byte-level alphabet undone, or the
// text itself for control and user-defined tokens and for tokens that are
// not in the alphabet (Hugging Face's ByteLevel decoder does the same).
func (b *bpe) piece(id int) []byte {
	if id < 0 || id >= len(b.spec.Tokens) {
		return nil
	}
	tok := b.spec.Tokens[id]
	if id < len(b.spec.Types) {
		if t := b.spec.Types[id]; t == TypeControl || t == TypeUserDefined {
			return []byte(tok)
		}
	}
	raw, ok := byteLevelDecode(tok)
	if !ok {
		return []byte(tok)
	}
	return raw
}

// bpeCandidate is a queued pair merge.
type bpeCandidate struct {
	rank, left, right int
	leftID, rightID   int
	id                int
}

// bpeQueue orders candidates by rank, then by position.
type bpeQueue []bpeCandidate

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].left < q[j].left
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCandidate)) }
func (q *bpeQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

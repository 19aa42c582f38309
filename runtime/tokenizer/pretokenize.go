package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// preTokenizer splits text into the words that BPE encodes one at a time. It
// applies its regexes in sequence, each one splitting every piece the
// previous one produced, and keeps both the matches and the gaps between
// them as pieces (Hugging Face's Split with behavior Isolated); empty pieces
// are dropped. The regexes use regexp2's default (.NET) semantics, which
// agree with Oniguruma's for what these patterns use: \s is Unicode
// White_Space, \p{L}/\p{N}/\p{P}/... are Unicode general categories, and
// lookahead works. Multiline makes $ an end-of-line anchor, as in
// Oniguruma's Ruby syntax.
type preTokenizer struct {
	res []*regexp2.Regexp
}

// newPreTokenizer builds the pre-tokenizer of a spec: spec.PreRegex when set,
// else the regexes of the llama.cpp pre-tokenizer type named by spec.Pre.
func newPreTokenizer(spec *Spec) (*preTokenizer, error) {
	pats := spec.PreRegex
	if len(pats) == 0 {
		var err error
		if pats, err = preRegexesFor(spec.Pre); err != nil {
			return nil, err
		}
	}
	p := &preTokenizer{}
	for _, pat := range pats {
		re, err := compilePre(pat)
		if err != nil {
			return nil, err
		}
		p.res = append(p.res, re)
	}
	return p, nil
}

// preRegexesFor returns the regex list of a named pre-tokenizer type.
func preRegexesFor(name string) ([]string, error) {
	fam, ok := preNames[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer: unknown pre-tokenizer %q (known: %s)", name, strings.Join(PreTokenizerNames(), ", "))
	}
	return preFamilies[fam], nil
}

// PreTokenizerNames lists the tokenizer.ggml.pre names the BPE tokenizer
// knows, sorted.
func PreTokenizerNames() []string {
	names := make([]string, 0, len(preNames))
	for n := range preNames {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// compilePre compiles one split regex, turning regexp2's panics on exotic
// syntax into errors.
func compilePre(pat string) (re *regexp2.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, fmt.Errorf("tokenizer: bad pre-tokenizer regex %q: %v", pat, r)
		}
	}()
	re, err = regexp2.Compile(pat, regexp2.Multiline)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: bad pre-tokenizer regex %q: %w", pat, err)
	}
	return re, nil
}

// split returns the words of text, in order; their concatenation is text.
// Invalid UTF-8 bytes count as one U+FFFD character each for matching, and
// the words keep the original bytes.
func (p *preTokenizer) split(text string) []string {
	if text == "" {
		return nil
	}
	pieces := []string{text}
	for _, re := range p.res {
		var next []string
		for _, piece := range pieces {
			next = splitIsolated(re, piece, next)
		}
		pieces = next
	}
	return pieces
}

// splitIsolated appends to out the matches of re in s and the non-empty gaps
// between them.
func splitIsolated(re *regexp2.Regexp, s string, out []string) []string {
	// regexp2 matches on runes; offs maps rune positions back to bytes.
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		offs = append(offs, i)
		i += n
	}
	offs = append(offs, len(s))

	prev := 0
	m, err := re.FindRunesMatch(runes)
	for m != nil && err == nil {
		start, end := offs[m.Index], offs[m.Index+m.Length]
		if start > prev {
			out = append(out, s[prev:start])
		}
		if end > start {
			out = append(out, s[start:end])
		}
		if end > prev {
			prev = end
		}
		m, err = re.FindNextMatch(m)
	}
	// err is only a match timeout, and none is set; keep the rest whole.
	if prev < len(s) {
		out = append(out, s[prev:])
	}
	return out
}

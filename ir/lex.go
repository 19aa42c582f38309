package ir

import (
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token of the text form.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokIdent          // module, f32, matmul, seq, eps, inf, nan
	tokValue          // %name (text: the name, unquoted)
	tokRef            // @name (text: the name, unquoted)
	tokInt            // 512, -1
	tokFloat          // 1e-05, 10000.0, -inf
	tokString         // "text" (text: unquoted)
	tokPunct          // = , : [ ] ( ) { } ->
	tokError          // a character no token starts with (text: the problem)
)

// token is one lexical token; pos is its byte offset in the source.
type token struct {
	kind tokKind
	text string
	pos  int
}

// String describes the token for an error message.
func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokValue:
		return strconv.Quote("%" + t.text)
	case tokRef:
		return strconv.Quote("@" + t.text)
	case tokString:
		return "string " + strconv.Quote(t.text)
	case tokError:
		return t.text
	}
	return strconv.Quote(t.text)
}

// lexer splits IR text into tokens. It never fails: a bad character
// becomes a tokError, which the parser reports with its position.
type lexer struct {
	src string
	off int
}

// next returns the next token, skipping spaces, newlines and // comments.
func (l *lexer) next() token {
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.off++
			continue
		}
		if strings.HasPrefix(l.src[l.off:], "//") {
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.off++
			}
			continue
		}
		break
	}
	start := l.off
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start}
	}
	c := l.src[l.off]
	switch {
	case c == '%' || c == '@':
		l.off++
		kind := tokValue
		if c == '@' {
			kind = tokRef
		}
		if l.off < len(l.src) && l.src[l.off] == '"' {
			s, ok := l.quoted()
			if !ok {
				return token{kind: tokError, text: "unterminated or malformed quoted name", pos: start}
			}
			return token{kind: kind, text: s, pos: start}
		}
		n := l.off
		for l.off < len(l.src) && isNameByte(l.src[l.off]) {
			l.off++
		}
		if l.off == n {
			return token{kind: tokError, text: "a name must follow " + string(c), pos: start}
		}
		return token{kind: kind, text: l.src[n:l.off], pos: start}
	case c == '"':
		s, ok := l.quoted()
		if !ok {
			return token{kind: tokError, text: "unterminated or malformed string", pos: start}
		}
		return token{kind: tokString, text: s, pos: start}
	case c == '-' && strings.HasPrefix(l.src[l.off:], "->"):
		l.off += 2
		return token{kind: tokPunct, text: "->", pos: start}
	case c == '-' && strings.HasPrefix(l.src[l.off:], "-inf") && !l.identByteAt(l.off+4):
		l.off += 4
		return token{kind: tokFloat, text: "-inf", pos: start}
	case c == '-' || c >= '0' && c <= '9':
		return l.number()
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
		for l.off < len(l.src) && l.identByteAt(l.off) {
			l.off++
		}
		return token{kind: tokIdent, text: l.src[start:l.off], pos: start}
	case strings.IndexByte("=,:[](){}", c) >= 0:
		l.off++
		return token{kind: tokPunct, text: string(c), pos: start}
	}
	l.off++
	return token{kind: tokError, text: "unexpected character " + strconv.QuoteRune(rune(c)), pos: start}
}

// identByteAt reports whether the byte at i continues an identifier.
func (l *lexer) identByteAt(i int) bool {
	if i >= len(l.src) {
		return false
	}
	c := l.src[i]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// quoted reads a Go-syntax double-quoted string at the current offset.
func (l *lexer) quoted() (string, bool) {
	i := l.off + 1
	for i < len(l.src) {
		switch l.src[i] {
		case '\\':
			i += 2
			continue
		case '\n':
			return "", false
		case '"':
			s, err := strconv.Unquote(l.src[l.off : i+1])
			l.off = i + 1
			return s, err == nil
		}
		i++
	}
	l.off = len(l.src)
	return "", false
}

// number reads an int (-?digits) or a float (with a '.' or an exponent).
func (l *lexer) number() token {
	start := l.off
	digits := func() int {
		n := l.off
		for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
			l.off++
		}
		return l.off - n
	}
	if l.src[l.off] == '-' {
		l.off++
	}
	if digits() == 0 {
		return token{kind: tokError, text: "malformed number", pos: start}
	}
	kind := tokInt
	if l.off < len(l.src) && l.src[l.off] == '.' {
		l.off++
		digits()
		kind = tokFloat
	}
	if l.off < len(l.src) && (l.src[l.off] == 'e' || l.src[l.off] == 'E') {
		l.off++
		if l.off < len(l.src) && (l.src[l.off] == '+' || l.src[l.off] == '-') {
			l.off++
		}
		if digits() == 0 {
			return token{kind: tokError, text: "malformed number exponent", pos: start}
		}
		kind = tokFloat
	}
	if l.identByteAt(l.off) {
		return token{kind: tokError, text: "malformed number", pos: start}
	}
	return token{kind: kind, text: l.src[start:l.off], pos: start}
}

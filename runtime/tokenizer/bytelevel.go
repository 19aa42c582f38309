package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's byte-level alphabet (bytes_to_unicode in OpenAI's encoder.py):
// every byte gets a printable character so that BPE vocabularies can be
// stored as text. The printable Latin-1 bytes stand for themselves; the
// other 68 bytes (controls, space, DEL, NBSP, soft hyphen, ...) take the
// code points from U+0100 upward in byte order, so a space is "Ġ" (U+0120)
// and a newline "Ċ" (U+010A).
var (
	byteToRune [256]rune
	runeToByte map[rune]byte
)

func init() {
	runeToByte = make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = next
			next++
		}
		byteToRune[b] = r
		runeToByte[r] = byte(b)
	}
}

// byteLevelEncode maps raw bytes (any bytes, valid UTF-8 or not) to the
// byte-level alphabet.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// byteLevelDecode maps a byte-level string back to its raw bytes. ok is false
// when s holds a character outside the alphabet (an added token's text, say);
// the bytes of the characters that did map are still returned.
func byteLevelDecode(s string) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	ok = true
	for _, r := range s {
		b, in := runeToByte[r]
		if !in {
			ok = false
			continue
		}
		out = append(out, b)
	}
	return out, ok
}

// ByteLevelToBytes returns the raw bytes a GPT-2 byte-level token stands
// for, or false when the token holds a character outside the alphabet.
// Loaders that convert between vocabulary forms use it.
func ByteLevelToBytes(token string) ([]byte, bool) {
	if !utf8.ValidString(token) {
		return nil, false
	}
	b, ok := byteLevelDecode(token)
	if !ok {
		return nil, false
	}
	return b, true
}

// BytesToByteLevel returns the byte-level form of raw token bytes.
func BytesToByteLevel(raw []byte) string { return byteLevelEncode(string(raw)) }

package format

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/omex-dev/omex/omexerr"
)

// EscapeToken spells a token for one line of vocab.txt or merges.txt so
// that any byte string round-trips: a backslash becomes `\\`; a control
// byte (0x00-0x1F, 0x7F, which includes newline and carriage return) and
// every byte that is not part of valid UTF-8 becomes `\xHH` (lower-case
// hex). Everything else, spaces included, is written as is.
func EscapeToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
			i++
		case c < 0x20 || c == 0x7f:
			writeHexByte(&b, c)
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				writeHexByte(&b, c)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// writeHexByte writes c as \xHH.
func writeHexByte(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}

// UnescapeToken inverts EscapeToken. It rejects what EscapeToken never
// writes: raw control bytes, invalid UTF-8, and unknown or short escapes,
// with a ModelError whose offset is the byte position in line.
func UnescapeToken(line string) (string, error) {
	s, err := unescapeToken(line)
	if err != nil {
		return "", err
	}
	return s, nil
}

// unescapeToken is UnescapeToken with a concrete error type.
func unescapeToken(line string) (string, *omexerr.Error) {
	if !utf8.ValidString(line) {
		return "", omexerr.Modelf("model.bad_tokenizer", "line is not valid UTF-8").WithOffset(0)
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c < 0x20 || c == 0x7f {
			return "", omexerr.Modelf("model.bad_tokenizer", "raw control byte 0x%02x (must be escaped as \\x%02x)", c, c).WithOffset(int64(i))
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		switch {
		case i+1 < len(line) && line[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
			b.WriteByte(unhex(line[i+2])<<4 | unhex(line[i+3]))
			i += 3
		default:
			return "", omexerr.Modelf("model.bad_tokenizer", "bad escape (want \\\\ or \\xHH)").WithOffset(int64(i))
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// encodeLines writes one escaped entry per line, each ending in '\n'.
func encodeLines(items []string) []byte {
	var b bytes.Buffer
	for _, s := range items {
		b.WriteString(EscapeToken(s))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// decodeLines parses a file written by encodeLines. When want >= 0 the file
// must hold exactly want lines, else at most MaxVocab. Errors name file and
// the byte offset.
func decodeLines(data []byte, file string, want int) ([]string, *omexerr.Error) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, omexerr.Modelf("model.truncated", "last line has no newline").WithFile(file).WithOffset(int64(len(data)))
	}
	n := bytes.Count(data, []byte{'\n'})
	if want >= 0 && n != want {
		return nil, omexerr.Modelf("model.bad_tokenizer", "%d lines, want %d", n, want).WithFile(file).WithOffset(int64(len(data)))
	}
	if n > MaxVocab {
		return nil, omexerr.Modelf("model.too_large", "%d lines, more than %d", n, MaxVocab).WithFile(file).WithOffset(0)
	}
	out := make([]string, 0, n)
	off := 0
	for off < len(data) {
		end := off + bytes.IndexByte(data[off:], '\n')
		s, err := unescapeToken(string(data[off:end]))
		if err != nil {
			return nil, err.WithFile(file).WithOffset(int64(off) + err.Offset)
		}
		out = append(out, s)
		off = end + 1
	}
	return out, nil
}

// encodeFloat32s writes little-endian float32 bit patterns (exact, NaN
// payloads included).
func encodeFloat32s(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// decodeFloat32s reads exactly n little-endian float32s.
func decodeFloat32s(data []byte, file string, n int) ([]float32, *omexerr.Error) {
	if len(data) != 4*n {
		return nil, omexerr.Modelf("model.bad_tokenizer", "%d bytes, want %d (4 per token)", len(data), 4*n).WithFile(file).WithOffset(int64(min(len(data), 4*n)))
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v, nil
}

// encodeInt32s writes little-endian int32s.
func encodeInt32s(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// decodeInt32s reads exactly n little-endian int32s.
func decodeInt32s(data []byte, file string, n int) ([]int32, *omexerr.Error) {
	if len(data) != 4*n {
		return nil, omexerr.Modelf("model.bad_tokenizer", "%d bytes, want %d (4 per token)", len(data), 4*n).WithFile(file).WithOffset(int64(min(len(data), 4*n)))
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v, nil
}

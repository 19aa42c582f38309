package engine

import (
	"strings"
	"unicode/utf8"
)

// chunkText splits s into pieces of at most size bytes, breaking after a
// newline when a line fits and inside a line (at a character boundary)
// only when the line alone is longer than size.
func chunkText(s string, size int) []string {
	chunks := []string{}
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
		}
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		for line != "" {
			if cur.Len()+len(line) <= size {
				cur.WriteString(line)
				break
			}
			if cur.Len() > 0 {
				flush()
				continue
			}
			cut := size
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			if cut == 0 { // one character longer than size: keep it whole
				_, cut = utf8.DecodeRuneInString(line)
			}
			chunks = append(chunks, line[:cut])
			line = line[cut:]
		}
	}
	flush()
	return chunks
}

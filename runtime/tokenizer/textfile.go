package tokenizer

import (
	"bytes"
	"fmt"
	"iter"
	"os"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// readTokenizerFile reads a tokenizer file whole, with the error every
// loader gives when it cannot.
func readTokenizerFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, omexerr.Inputf("input.not_found", "cannot read the tokenizer").WithFile(path).Wrap(err)
	}
	return data, nil
}

// textLine is one line of a line-oriented tokenizer file.
type textLine struct {
	No   int    // 1-based line number
	Off  int    // byte offset of the line's start
	Text string // the line without its "\n" or "\r\n"
}

// textLines yields data's lines in order, the last one whether or not it
// ends in a newline.
func textLines(data []byte) iter.Seq[textLine] {
	return func(yield func(textLine) bool) {
		off := 0
		for lineNo := 1; off < len(data); lineNo++ {
			end := bytes.IndexByte(data[off:], '\n')
			next := off + end + 1
			if end < 0 {
				end = len(data) - off
				next = len(data)
			}
			if !yield(textLine{No: lineNo, Off: off, Text: strings.TrimSuffix(string(data[off:off+end]), "\r")}) {
				return
			}
			off = next
		}
	}
}

// lineError is a bad-tokenizer error at one line of file name.
func lineError(name string, ln textLine, format string, args ...any) error {
	return omexerr.Modelf("model.bad_tokenizer", "line %d: %s", ln.No, fmt.Sprintf(format, args...)).
		WithFile(name).WithOffset(int64(ln.Off))
}

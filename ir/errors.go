package ir

import (
	"fmt"

	"github.com/omex-dev/omex/omexerr"
)

// errorf makes the error for a module that breaks the IR's rules (a bad
// shape from the builder, a failed verification). It is a ModelError: the
// module came from a model, and a module a pass broke is reported the same
// way, naming the pass, by the pass manager.
func errorf(format string, args ...any) error {
	return omexerr.Modelf("model.invalid_ir", format, args...)
}

// SyntaxError is a problem in IR text at a line and column (both from 1;
// the column counts bytes). Parse returns it wrapped in an InputError.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

// Error prints "line:col: message".
func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// syntaxError wraps a SyntaxError in the OMEX error family.
func syntaxError(line, col int, msg string) error {
	return omexerr.Inputf("input.ir_syntax", "malformed IR text").Wrap(&SyntaxError{Line: line, Col: col, Msg: msg})
}

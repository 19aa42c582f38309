// Package omexerr is the one error family of OMEX: every failure a user can
// see is an *Error with a category, a stable code and the place it concerns.
package omexerr

import (
	"errors"
	"fmt"
	"strings"
)

// Category groups errors by who must act: the user's input, the model file,
// the machine's resources, and so on. Each category has its own exit status.
type Category int

// The categories. Their order fixes the CLI exit statuses (see ExitCode).
const (
	Input Category = iota + 1
	Model
	Resource
	Execution
	Hardware
	Zsei
	Configuration
)

var categoryNames = map[Category]string{
	Input:         "InputError",
	Model:         "ModelError",
	Resource:      "ResourceError",
	Execution:     "ExecutionError",
	Hardware:      "HardwareError",
	Zsei:          "ZseiError",
	Configuration: "ConfigurationError",
}

// String returns the category's name, e.g. "ModelError".
func (c Category) String() string {
	if n, ok := categoryNames[c]; ok {
		return n
	}
	return fmt.Sprintf("Category(%d)", int(c))
}

// ExitCode is the process exit status the CLI uses for an error of this
// category: 10 + the category number, so 0, 1 and 2 stay free for success,
// unexpected failures and usage errors.
func (c Category) ExitCode() int { return 10 + int(c) }

// Error is an OMEX error. Code is stable across releases (for scripts);
// File, Tensor, Offset and Flag name the place at fault when known.
type Error struct {
	Category Category
	Code     string // stable, e.g. "model.truncated"
	Msg      string
	File     string
	Tensor   string
	Offset   int64 // byte offset in File; -1 when not meaningful
	Flag     string
	Err      error // the underlying cause, if any
}

// Error formats the error with its category, code and location.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Category.String())
	b.WriteString(" [")
	b.WriteString(e.Code)
	b.WriteString("]: ")
	b.WriteString(e.Msg)
	var where []string
	if e.File != "" {
		where = append(where, "file "+e.File)
	}
	if e.Tensor != "" {
		where = append(where, "tensor "+e.Tensor)
	}
	if e.Offset >= 0 && e.File != "" {
		where = append(where, fmt.Sprintf("offset %d", e.Offset))
	}
	if e.Flag != "" {
		where = append(where, "flag "+e.Flag)
	}
	if len(where) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// New makes an error of a category with a code and a formatted message.
func New(c Category, code, format string, args ...any) *Error {
	return &Error{Category: c, Code: code, Msg: fmt.Sprintf(format, args...), Offset: -1}
}

// WithFile returns the error with its file set.
func (e *Error) WithFile(path string) *Error { e.File = path; return e }

// WithOffset returns the error with its byte offset set.
func (e *Error) WithOffset(off int64) *Error { e.Offset = off; return e }

// WithTensor returns the error with its tensor name set.
func (e *Error) WithTensor(name string) *Error { e.Tensor = name; return e }

// WithFlag returns the error with its command-line flag set.
func (e *Error) WithFlag(flag string) *Error { e.Flag = flag; return e }

// Wrap returns the error with an underlying cause attached.
func (e *Error) Wrap(err error) *Error { e.Err = err; return e }

// Inputf is a shorthand for an InputError.
func Inputf(code, format string, args ...any) *Error { return New(Input, code, format, args...) }

// Modelf is a shorthand for a ModelError.
func Modelf(code, format string, args ...any) *Error { return New(Model, code, format, args...) }

// Resourcef is a shorthand for a ResourceError.
func Resourcef(code, format string, args ...any) *Error { return New(Resource, code, format, args...) }

// Executionf is a shorthand for an ExecutionError.
func Executionf(code, format string, args ...any) *Error {
	return New(Execution, code, format, args...)
}

// Configf is a shorthand for a ConfigurationError.
func Configf(code, format string, args ...any) *Error {
	return New(Configuration, code, format, args...)
}

// As returns the *Error inside err, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CategoryOf returns the category of err, or 0 when err is not an OMEX error.
func CategoryOf(err error) Category {
	if e, ok := As(err); ok {
		return e.Category
	}
	return 0
}

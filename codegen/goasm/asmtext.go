package goasm

import (
	"fmt"
	"strings"
)

// asmText accumulates the lines of one assembly function.
type asmText struct {
	b strings.Builder
}

// op writes one instruction line.
func (a *asmText) op(format string, args ...any) {
	a.b.WriteByte('\t')
	fmt.Fprintf(&a.b, format, args...)
	a.b.WriteByte('\n')
}

// label writes a label line.
func (a *asmText) label(name string) { fmt.Fprintf(&a.b, "%s:\n", name) }

// comment writes a comment line.
func (a *asmText) comment(format string, args ...any) {
	a.b.WriteString("\t// ")
	fmt.Fprintf(&a.b, format, args...)
	a.b.WriteByte('\n')
}

// blockSizes is the sequence of group-block sizes a kernel is emitted
// for: u groups in flight, then u/2, ... down to 1, so any count of
// groups runs with as many independent accumulator chains as possible.
func blockSizes(u int) []int {
	var s []int
	for ; u >= 1; u /= 2 {
		s = append(s, u)
	}
	return s
}

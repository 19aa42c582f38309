package ir

import (
	"strconv"
	"strings"
)

// Print returns the text form of m (docs/IR.md): the module line, then dim
// bindings, weights, states and functions in declaration order, one
// declaration or instruction per line, attributes sorted by name. Names are
// printed as they are (no renumbering), so a pass that leaves a line alone
// leaves its text alone. Parse reads it back to a module that prints the
// same bytes.
func Print(m *Module) string {
	var b strings.Builder
	b.WriteString("module ")
	b.WriteString(strconv.Quote(m.Name))
	b.WriteByte('\n')
	if len(m.Dims) > 0 {
		b.WriteByte('\n')
		for _, d := range m.Dims {
			b.WriteString("dim ")
			b.WriteString(d.Name)
			b.WriteString(" = ")
			b.WriteString(strconv.Itoa(d.Value))
			b.WriteByte('\n')
		}
	}
	if len(m.Weights)+len(m.States) > 0 {
		b.WriteByte('\n')
		for _, w := range m.Weights {
			if w != nil {
				b.WriteString("weight " + refName(w.Name) + " : " + w.Type.String())
				if w.Layout != "" {
					b.WriteString(" layout " + strconv.Quote(w.Layout))
				}
				b.WriteByte('\n')
			}
		}
		for _, s := range m.States {
			if s != nil {
				b.WriteString("state " + refName(s.Name) + " : " + s.Type.String() + "\n")
			}
		}
	}
	for _, f := range m.Funcs {
		if f != nil {
			b.WriteByte('\n')
			printFunc(&b, f)
		}
	}
	for _, p := range m.Plans() {
		b.WriteByte('\n')
		printPlan(&b, p)
	}
	return b.String()
}

// String returns the text form of f alone.
func (f *Func) String() string {
	var b strings.Builder
	printFunc(&b, f)
	return b.String()
}

func printFunc(b *strings.Builder, f *Func) {
	b.WriteString("func ")
	b.WriteString(refName(f.Name))
	b.WriteByte('(')
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(valueName(p))
		b.WriteString(": ")
		if p != nil {
			b.WriteString(p.Type.String())
		}
	}
	b.WriteByte(')')
	if len(f.Results) > 0 {
		b.WriteString(" ->")
		for i, r := range f.Results {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			if r != nil {
				b.WriteString(r.Type.String())
			} else {
				b.WriteString("?")
			}
		}
	}
	b.WriteString(" {\n")
	for _, in := range f.Body {
		b.WriteString("  ")
		b.WriteString(in.String())
		b.WriteByte('\n')
	}
	b.WriteString("  return")
	for i, r := range f.Results {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(valueName(r))
	}
	b.WriteString("\n}\n")
}

// String returns the instruction's line of the text form (unindented):
// "%q = matmul %x, @w : f32[seq,64]".
func (in *Instr) String() string {
	if in == nil {
		return "<nil instruction>"
	}
	var b strings.Builder
	for i, r := range in.Results {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(valueName(r))
	}
	if len(in.Results) > 0 {
		b.WriteString(" = ")
	}
	b.WriteString(in.Op.String())
	sep := " "
	for _, a := range in.Args {
		b.WriteString(sep)
		b.WriteString(valueName(a))
		sep = ", "
	}
	for _, r := range in.Refs {
		b.WriteString(sep)
		b.WriteString(refName(r))
		sep = ", "
	}
	if len(in.Attrs) > 0 {
		b.WriteByte(' ')
		b.WriteString(in.Attrs.String())
	}
	b.WriteString(" :")
	for i, r := range in.Results {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		if r != nil {
			b.WriteString(r.Type.String())
		} else {
			b.WriteString("?")
		}
	}
	return b.String()
}

// String returns "%name".
func (v *Value) String() string { return valueName(v) }

// valueName prints %name (quoted when the name has characters a bare name
// cannot hold).
func valueName(v *Value) string {
	if v == nil {
		return "%<nil>"
	}
	return "%" + quoteName(v.Name)
}

// refName prints @name (quoted when needed).
func refName(name string) string { return "@" + quoteName(name) }

// quoteName returns name bare when every byte is a name byte, else quoted.
func quoteName(name string) string {
	if name == "" {
		return `""`
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return strconv.Quote(name)
		}
	}
	return name
}

// isNameByte reports whether c may appear in a bare %name or @name.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

package ir

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// AttrKind is the type of an attribute value.
type AttrKind uint8

// The attribute kinds.
const (
	AttrInt    AttrKind = iota + 1 // an int64, e.g. heads=8
	AttrFloat                      // a float32, e.g. eps=1e-05 (printed so it parses back to the same bits)
	AttrString                     // a quoted string, e.g. layout="interleaved"
	AttrInts                       // a list of int64, e.g. perm=[1,0]
)

var attrKindNames = [...]string{AttrInt: "int", AttrFloat: "float", AttrString: "string", AttrInts: "int list"}

// String names the kind ("int", "float", "string", "int list").
func (k AttrKind) String() string {
	if k >= AttrInt && k <= AttrInts {
		return attrKindNames[k]
	}
	return "attrkind(" + strconv.Itoa(int(k)) + ")"
}

// Attr is one attribute value; Kind says which field holds it.
type Attr struct {
	Kind  AttrKind
	Int   int64
	Float float32
	Str   string
	Ints  []int64
}

// IntAttr makes an int attribute.
func IntAttr(v int) Attr { return Attr{Kind: AttrInt, Int: int64(v)} }

// FloatAttr makes a float attribute.
func FloatAttr(v float32) Attr { return Attr{Kind: AttrFloat, Float: v} }

// StringAttr makes a string attribute.
func StringAttr(s string) Attr { return Attr{Kind: AttrString, Str: s} }

// IntsAttr makes an int-list attribute.
func IntsAttr(v ...int) Attr {
	l := make([]int64, len(v))
	for i, x := range v {
		l[i] = int64(x)
	}
	return Attr{Kind: AttrInts, Ints: l}
}

// Equal reports whether a and b are the same value; floats compare by their
// bits, so NaN equals itself and 0 differs from -0 (what CSE needs).
func (a Attr) Equal(b Attr) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case AttrInt:
		return a.Int == b.Int
	case AttrFloat:
		return math.Float32bits(a.Float) == math.Float32bits(b.Float)
	case AttrString:
		return a.Str == b.Str
	case AttrInts:
		if len(a.Ints) != len(b.Ints) {
			return false
		}
		for i := range a.Ints {
			if a.Ints[i] != b.Ints[i] {
				return false
			}
		}
		return true
	}
	return true
}

// String prints the value as the text form does.
func (a Attr) String() string {
	switch a.Kind {
	case AttrInt:
		return strconv.FormatInt(a.Int, 10)
	case AttrFloat:
		return formatFloat(a.Float)
	case AttrString:
		return strconv.Quote(a.Str)
	case AttrInts:
		var b strings.Builder
		b.WriteByte('[')
		for i, v := range a.Ints {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte(']')
		return b.String()
	}
	return "?"
}

// formatFloat prints f with the fewest digits that parse back to the same
// float32, always with a '.', an exponent or a name so that it never reads
// as an int: 10000 prints as 10000.0, 1e-5 as 1e-05, infinities as inf and
// -inf, NaN as nan (NaN payloads are not kept).
func formatFloat(f float32) string {
	switch {
	case math.IsNaN(float64(f)):
		return "nan"
	case math.IsInf(float64(f), 1):
		return "inf"
	case math.IsInf(float64(f), -1):
		return "-inf"
	}
	s := strconv.FormatFloat(float64(f), 'g', -1, 32)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// Attrs maps attribute names to values. The text form prints them sorted
// by name.
type Attrs map[string]Attr

// Names returns the attribute names in sorted order.
func (a Attrs) Names() []string {
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Equal reports whether a and b hold the same names with equal values.
func (a Attrs) Equal(b Attrs) bool {
	if len(a) != len(b) {
		return false
	}
	for n, v := range a {
		w, ok := b[n]
		if !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy (nil stays nil).
func (a Attrs) Clone() Attrs {
	if a == nil {
		return nil
	}
	c := make(Attrs, len(a))
	for n, v := range a {
		if v.Ints != nil {
			v.Ints = append([]int64{}, v.Ints...)
		}
		c[n] = v
	}
	return c
}

// Has reports whether the attribute is present.
func (a Attrs) Has(name string) bool {
	_, ok := a[name]
	return ok
}

// Int returns an int attribute and whether it is present with that kind.
func (a Attrs) Int(name string) (int, bool) {
	v, ok := a[name]
	if !ok || v.Kind != AttrInt {
		return 0, false
	}
	return int(v.Int), true
}

// Float returns a float attribute and whether it is present with that kind.
func (a Attrs) Float(name string) (float32, bool) {
	v, ok := a[name]
	if !ok || v.Kind != AttrFloat {
		return 0, false
	}
	return v.Float, true
}

// Str returns a string attribute and whether it is present with that kind.
func (a Attrs) Str(name string) (string, bool) {
	v, ok := a[name]
	if !ok || v.Kind != AttrString {
		return "", false
	}
	return v.Str, true
}

// Ints returns an int-list attribute (as ints) and whether it is present
// with that kind.
func (a Attrs) Ints(name string) ([]int, bool) {
	v, ok := a[name]
	if !ok || v.Kind != AttrInts {
		return nil, false
	}
	l := make([]int, len(v.Ints))
	for i, x := range v.Ints {
		l[i] = int(x)
	}
	return l, true
}

// String prints the attributes as the text form does: "{a=1, b=2.5}", or
// "" when there are none.
func (a Attrs) String() string {
	if len(a) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range a.Names() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(a[n].String())
	}
	b.WriteByte('}')
	return b.String()
}

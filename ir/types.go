package ir

import (
	"strconv"
	"strings"

	"github.com/omex-dev/omex/tensor"
)

// Elem is the element type of a tensor value, weight or state.
type Elem uint8

// The element types. F32 and I32 are what activations hold; the float and
// block-quantized types are what weights may be stored as; I8 and Bool are
// reserved for future ops (no op accepts them yet).
const (
	InvalidElem Elem = iota
	F32
	F16
	BF16
	Q8_0
	Q4_0
	I8
	I32
	Bool
)

var elemNames = [...]string{InvalidElem: "invalid", F32: "f32", F16: "f16", BF16: "bf16", Q8_0: "q8_0", Q4_0: "q4_0", I8: "i8", I32: "i32", Bool: "bool"}

// String returns the element type's name as the text form spells it.
func (e Elem) String() string {
	if int(e) < len(elemNames) {
		return elemNames[e]
	}
	return "elem(" + strconv.Itoa(int(e)) + ")"
}

// Valid reports whether e is one of the known element types.
func (e Elem) Valid() bool { return e > InvalidElem && e <= Bool }

// WeightFloat reports whether a weight of this type holds real numbers an op
// can read (directly or dequantized): f32, f16, bf16, q8_0, q4_0.
func (e Elem) WeightFloat() bool { return e >= F32 && e <= Q4_0 }

// Quantized reports whether e is block-quantized (one scale per
// tensor.BlockSize elements of a row).
func (e Elem) Quantized() bool { return e == Q8_0 || e == Q4_0 }

// ParseElem returns the element type named s.
func ParseElem(s string) (Elem, bool) {
	for e := F32; e <= Bool; e++ {
		if elemNames[e] == s {
			return e, true
		}
	}
	return InvalidElem, false
}

// ElemOf returns the element type of a tensor dtype (weights in the OMEX
// package), and false for a dtype the IR does not know.
func ElemOf(d tensor.DType) (Elem, bool) {
	switch d {
	case tensor.F32:
		return F32, true
	case tensor.F16:
		return F16, true
	case tensor.BF16:
		return BF16, true
	case tensor.Q8_0:
		return Q8_0, true
	case tensor.Q4_0:
		return Q4_0, true
	}
	return InvalidElem, false
}

// DType returns the tensor dtype that stores weights of type e, and false
// for the types no weight record can hold (i8, i32, bool).
func (e Elem) DType() (tensor.DType, bool) {
	switch e {
	case F32:
		return tensor.F32, true
	case F16:
		return tensor.F16, true
	case BF16:
		return tensor.BF16, true
	case Q8_0:
		return tensor.Q8_0, true
	case Q4_0:
		return tensor.Q4_0, true
	}
	return 0, false
}

// MaxDim bounds a constant dimension, so products of a few dimensions cannot
// overflow an int64 and a hostile text cannot ask for absurd sizes.
const MaxDim = 1 << 31

// Dim is one dimension of a shape: a constant (Sym == "") of size N, or a
// symbol such as "seq" or "ctx" (N == 0). Compare dims with ==: symbols are
// equal when their names are; a symbol never equals a constant, even one
// the module binds it to.
type Dim struct {
	Sym string
	N   int
}

// C returns the constant dimension n.
func C(n int) Dim { return Dim{N: n} }

// S returns the symbolic dimension named sym.
func S(sym string) Dim { return Dim{Sym: sym} }

// IsConst reports whether d is a constant.
func (d Dim) IsConst() bool { return d.Sym == "" }

// String prints d as the text form does: its size or its symbol.
func (d Dim) String() string {
	if d.Sym != "" {
		return d.Sym
	}
	return strconv.Itoa(d.N)
}

// valid reports why d cannot appear in a type, or "" when it can.
func (d Dim) valid() string {
	if d.Sym != "" {
		if d.N != 0 {
			return "symbolic dimension " + d.Sym + " carries a size"
		}
		if !isSymbol(d.Sym) {
			return "bad dimension symbol " + strconv.Quote(d.Sym)
		}
		return ""
	}
	if d.N < 0 || d.N > MaxDim {
		return "dimension " + strconv.Itoa(d.N) + " out of range 0.." + strconv.Itoa(MaxDim)
	}
	return ""
}

// isSymbol reports whether s can name a dimension symbol: a letter or '_'
// followed by letters, digits and '_'.
func isSymbol(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Type is the type of a value, weight or state: an element type and a shape
// (outermost dimension first; an empty shape is a scalar).
type Type struct {
	Elem  Elem
	Shape []Dim
}

// T builds a type from an element type and dims (see C and S).
func T(e Elem, dims ...Dim) Type { return Type{Elem: e, Shape: dims} }

// Rank is the number of dimensions (0 for a scalar).
func (t Type) Rank() int { return len(t.Shape) }

// Equal reports whether t and u have the same element type and shape.
func (t Type) Equal(u Type) bool {
	if t.Elem != u.Elem || len(t.Shape) != len(u.Shape) {
		return false
	}
	for i := range t.Shape {
		if t.Shape[i] != u.Shape[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy of t that shares no memory with it.
func (t Type) Clone() Type {
	if t.Shape == nil {
		return Type{Elem: t.Elem}
	}
	return Type{Elem: t.Elem, Shape: append([]Dim{}, t.Shape...)}
}

// String prints t as the text form does, e.g. "f32[seq,288]" or "i32[]".
func (t Type) String() string {
	var b strings.Builder
	b.WriteString(t.Elem.String())
	b.WriteByte('[')
	for i, d := range t.Shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.String())
	}
	b.WriteByte(']')
	return b.String()
}

// valid reports why t cannot be a type, or "" when it can.
func (t Type) valid() string {
	if !t.Elem.Valid() {
		return "invalid element type " + t.Elem.String()
	}
	for _, d := range t.Shape {
		if why := d.valid(); why != "" {
			return why
		}
	}
	return ""
}

// ParseType parses the text form of a type, e.g. "f32[seq,288]".
func ParseType(s string) (Type, error) {
	p := newParser(s)
	t, err := p.typ()
	if err == nil && p.tok.kind != tokEOF {
		err = p.errorf(p.tok.pos, "unexpected %s after the type", p.tok)
	}
	if err != nil {
		return Type{}, err
	}
	return t, nil
}

package llvm

import "fmt"

// typeKind is the family of a Type.
type typeKind uint8

const (
	kindVoid typeKind = iota
	kindInt
	kindFloat
	kindPtr
)

// Type is an LLVM IR first-class type: void, an integer, a floating-point
// type, the opaque pointer, or a fixed-width vector of integers or floats
// (lanes > 0). Types compare with ==.
type Type struct {
	kind  typeKind
	bits  int // integer or float width
	lanes int // vector length; 0 for scalars
}

// The scalar types the kernels use.
var (
	Void   = Type{kind: kindVoid}
	I1     = Type{kind: kindInt, bits: 1}
	I8     = Type{kind: kindInt, bits: 8}
	I16    = Type{kind: kindInt, bits: 16}
	I32    = Type{kind: kindInt, bits: 32}
	I64    = Type{kind: kindInt, bits: 64}
	Half   = Type{kind: kindFloat, bits: 16}
	Float  = Type{kind: kindFloat, bits: 32}
	Double = Type{kind: kindFloat, bits: 64}
	Ptr    = Type{kind: kindPtr} // opaque pointer, `ptr`
)

// Vector is the type <lanes x elem>. elem must be an integer or float
// scalar; anything else is a generator bug and panics.
func Vector(lanes int, elem Type) Type {
	if lanes < 1 || elem.lanes != 0 || (elem.kind != kindInt && elem.kind != kindFloat) {
		panic(fmt.Sprintf("llvm: bad vector <%d x %v>", lanes, elem))
	}
	elem.lanes = lanes
	return elem
}

// Scalar is the element type of a vector, or t itself.
func (t Type) Scalar() Type { t.lanes = 0; return t }

// Lanes is the vector length (0 for a scalar).
func (t Type) Lanes() int { return t.lanes }

// IsFloat reports whether t is a float scalar or a vector of floats.
func (t Type) IsFloat() bool { return t.kind == kindFloat }

// IsInt reports whether t is an integer scalar or a vector of integers.
func (t Type) IsInt() bool { return t.kind == kindInt }

// Bits is the width of an integer or float element (0 otherwise).
func (t Type) Bits() int { return t.bits }

// Bytes is the storage size of a value of type t (its elements packed).
func (t Type) Bytes() int {
	n := max(t.lanes, 1)
	switch t.kind {
	case kindPtr:
		return 8
	case kindInt, kindFloat:
		return n * ((t.bits + 7) / 8)
	}
	return 0
}

// String is the type as LLVM IR spells it, e.g. "<8 x float>".
func (t Type) String() string {
	var s string
	switch t.kind {
	case kindVoid:
		return "void"
	case kindPtr:
		return "ptr"
	case kindInt:
		s = fmt.Sprintf("i%d", t.bits)
	case kindFloat:
		switch t.bits {
		case 16:
			s = "half"
		case 32:
			s = "float"
		default:
			s = "double"
		}
	}
	if t.lanes > 0 {
		return fmt.Sprintf("<%d x %s>", t.lanes, s)
	}
	return s
}

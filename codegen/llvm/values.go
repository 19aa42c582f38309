package llvm

import (
	"fmt"
	"math"
	"strings"
)

// Value is an operand: a constant, a function parameter or the result of
// an instruction. String is the operand without its type ("%acc.3",
// "zeroinitializer").
type Value interface {
	Type() Type
	String() string
}

// typed is an operand with its type in front, as instructions print them.
func typed(v Value) string { return v.Type().String() + " " + v.String() }

// constant is a literal value.
type constant struct {
	t     Type
	text  string
	ival  int64 // the value of a scalar integer constant
	isInt bool
}

func (c constant) Type() Type     { return c.t }
func (c constant) String() string { return c.text }

// register is a named SSA value: a parameter or an instruction result.
type register struct {
	t    Type
	name string // with the leading %
}

func (r *register) Type() Type     { return r.t }
func (r *register) String() string { return r.name }

// ConstInt is the integer v of type t; for a vector type every lane is v.
func ConstInt(t Type, v int64) Value {
	if !t.IsInt() {
		panic(fmt.Sprintf("llvm: ConstInt of %v", t))
	}
	if t.lanes == 0 {
		return constant{t: t, text: fmt.Sprint(v), ival: v, isInt: true}
	}
	return splatConst(t, fmt.Sprint(v))
}

// ConstFloat is the float v of type t (float or double, scalar or vector).
// v must be exactly representable in t: IR float literals are exact, and
// a silent rounding here would change the kernels' numbers.
func ConstFloat(t Type, v float64) Value {
	if !t.IsFloat() || t.bits == 16 {
		panic(fmt.Sprintf("llvm: ConstFloat of %v", t))
	}
	if t.bits == 32 && float64(float32(v)) != v && !math.IsNaN(v) {
		panic(fmt.Sprintf("llvm: %v is not a float32", v))
	}
	// LLVM writes float literals as the hex bits of the equal double.
	return splatConst(t, fmt.Sprintf("0x%016X", math.Float64bits(v)))
}

// splatConst is the scalar literal text, or a vector with it in every lane.
func splatConst(t Type, lit string) Value {
	if t.lanes == 0 {
		return constant{t: t, text: lit}
	}
	elem := t.Scalar().String() + " " + lit
	parts := make([]string, t.lanes)
	for i := range parts {
		parts[i] = elem
	}
	return constant{t: t, text: "<" + strings.Join(parts, ", ") + ">"}
}

// Zero is the zero value of t: zeroinitializer for vectors, 0, 0.0 or
// null for scalars. A float zero is +0.0.
func Zero(t Type) Value {
	switch {
	case t.lanes > 0:
		return constant{t: t, text: "zeroinitializer"}
	case t.kind == kindPtr:
		return constant{t: t, text: "null"}
	case t.IsFloat():
		return constant{t: t, text: "0.0"}
	}
	return constant{t: t, text: "0", isInt: true}
}

// Poison is an unspecified value of t (the base of a broadcast).
func Poison(t Type) Value { return constant{t: t, text: "poison"} }

package interp

import (
	"fmt"

	"github.com/omex-dev/omex/ir"
)

// Value is a concrete tensor that Call takes and returns: float32 or int32
// elements in row-major order and a shape without symbols. A scalar has an
// empty shape and one element.
type Value struct {
	Elem  ir.Elem // ir.F32 or ir.I32
	Shape []int
	F32   []float32 // the elements when Elem is ir.F32
	I32   []int32   // the elements when Elem is ir.I32
}

// F32Value wraps data (not copied) as an f32 value of the given shape.
func F32Value(data []float32, shape ...int) Value {
	return Value{Elem: ir.F32, Shape: shape, F32: data}
}

// I32Value wraps data (not copied) as an i32 value of the given shape.
func I32Value(data []int32, shape ...int) Value {
	return Value{Elem: ir.I32, Shape: shape, I32: data}
}

// Scalar is the i32[] value v: how a function receives its start position.
func Scalar(v int) Value { return Value{Elem: ir.I32, I32: []int32{int32(v)}} }

// Tokens is the i32[n] value holding the token ids.
func Tokens(ids ...int) Value {
	d := make([]int32, len(ids))
	for i, id := range ids {
		d[i] = int32(id)
	}
	return I32Value(d, len(ids))
}

// Len is the number of elements the value holds.
func (v Value) Len() int {
	if v.Elem == ir.I32 {
		return len(v.I32)
	}
	return len(v.F32)
}

// TypeString prints the value's concrete type as the IR prints types,
// e.g. "f32[5,64]" (for messages).
func (v Value) TypeString() string {
	s := v.Elem.String() + "["
	for i, d := range v.Shape {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(d)
	}
	return s + "]"
}

// clone returns a copy of v that shares no memory with the interpreter.
func (v Value) clone() Value {
	c := Value{Elem: v.Elem, Shape: append([]int{}, v.Shape...)}
	if v.Elem == ir.I32 {
		c.I32 = append([]int32{}, v.I32...)
	} else {
		c.F32 = append([]float32{}, v.F32...)
	}
	return c
}

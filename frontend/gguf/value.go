package gguf

import "fmt"

// ValueType is the type tag of a GGUF metadata value (gguf_type).
type ValueType uint32

// The thirteen metadata value types, with GGUF's numbering.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64",
}

// String returns the type's name as gguf-py spells it in lower case, e.g. "uint32".
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// valid reports whether t is one of the thirteen known types.
func (t ValueType) valid() bool { return int(t) < len(valueTypeNames) }

// minSize is the fewest bytes a value of type t occupies in a file: a bound
// used to reject element counts that cannot fit before allocating for them.
func (t ValueType) minSize() uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeString, TypeUint64, TypeInt64, TypeFloat64:
		return 8 // a string is at least its u64 length
	case TypeArray:
		return 12 // u32 element type + u64 count
	}
	return 1
}

// Array is a metadata array value. Values is a typed slice matching Elem:
// []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool,
// []string, []*Array, []uint64, []int64 or []float64.
type Array struct {
	Elem   ValueType
	Values any
}

// Len returns the number of elements.
func (a *Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []*Array:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	}
	return 0
}

// KV is one metadata pair in file order. Value holds the Go form of the
// value: uint8, int8, uint16, int16, uint32, int32, float32, bool, string,
// *Array, uint64, int64 or float64.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// TypeName describes the value's type for display, e.g. "uint32" or
// "array[string]" (nested arrays: "array[array[int32]]" from the first element).
func (kv KV) TypeName() string { return typeName(kv.Type, kv.Value) }

func typeName(t ValueType, v any) string {
	a, ok := v.(*Array)
	if t != TypeArray || !ok {
		return t.String()
	}
	if inner, ok := a.Values.([]*Array); ok && len(inner) > 0 {
		return "array[" + typeName(TypeArray, inner[0]) + "]"
	}
	return "array[" + a.Elem.String() + "]"
}

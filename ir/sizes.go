package ir

import (
	"fmt"
	"math"

	"github.com/omex-dev/omex/tensor"
)

// Sizes maps dimension symbols to sizes: the module's dim bindings plus the
// ones known only at run time (seq). The interpreter, memory planning and
// backends use it to turn types into concrete shapes.
type Sizes map[string]int

// Sizes returns the module's compile-time bindings (a fresh map the caller
// may extend, e.g. with "seq").
func (m *Module) Sizes() Sizes {
	s := Sizes{}
	for _, d := range m.Dims {
		s[d.Name] = d.Value
	}
	return s
}

// ShapeIn returns t's concrete shape under the bindings s; it fails on an
// unbound symbol.
func (t Type) ShapeIn(s Sizes) ([]int, error) {
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		if d.IsConst() {
			shape[i] = d.N
			continue
		}
		n, ok := s[d.Sym]
		if !ok {
			return nil, fmt.Errorf("dimension symbol %s of %s is not bound", d.Sym, t)
		}
		shape[i] = n
	}
	return shape, nil
}

// Elements returns the number of elements of t under s.
func (t Type) Elements(s Sizes) (int64, error) {
	shape, err := t.ShapeIn(s)
	if err != nil {
		return 0, err
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 || d != 0 && n > math.MaxInt64/int64(d) {
			return 0, fmt.Errorf("%s has too many elements", t)
		}
		n *= int64(d)
	}
	return n, nil
}

// Bytes returns the storage t needs under s: 4 bytes per f32/i32, 2 per
// f16/bf16, 1 per i8/bool, and for q8_0/q4_0 their data (1 byte, half a
// byte) plus one f32 scale per 32 elements.
func (t Type) Bytes(s Sizes) (int64, error) {
	n, err := t.Elements(s)
	if err != nil {
		return 0, err
	}
	switch t.Elem {
	case F32, I32:
		return 4 * n, nil
	case F16, BF16:
		return 2 * n, nil
	case I8, Bool:
		return n, nil
	case Q8_0, Q4_0:
		if n%tensor.BlockSize != 0 {
			return 0, fmt.Errorf("%s: %d elements are not whole blocks of %d", t, n, tensor.BlockSize)
		}
		data := n
		if t.Elem == Q4_0 {
			data = n / 2
		}
		return data + 4*(n/tensor.BlockSize), nil
	}
	return 0, fmt.Errorf("%s: invalid element type", t)
}

// BindParams matches the concrete shapes of a call's arguments against f's
// parameter types and returns the module's bindings extended with the
// symbols they fix (seq from the token count). It fails when an argument's
// rank or a constant dimension differs, or a symbol gets two sizes (also
// one the module binds).
func (f *Func) BindParams(m *Module, shapes [][]int) (Sizes, error) {
	if len(shapes) != len(f.Params) {
		return nil, fmt.Errorf("@%s takes %d arguments, got %d", f.Name, len(f.Params), len(shapes))
	}
	s := m.Sizes()
	for i, p := range f.Params {
		shape := shapes[i]
		if len(shape) != p.Type.Rank() {
			return nil, fmt.Errorf("@%s argument %d (%%%s : %s) has shape %v", f.Name, i, p.Name, p.Type, shape)
		}
		for j, d := range p.Type.Shape {
			n := shape[j]
			if n < 0 || n > MaxDim {
				return nil, fmt.Errorf("@%s argument %d (%%%s : %s): dimension %d out of range", f.Name, i, p.Name, p.Type, n)
			}
			want, ok := d.N, d.IsConst()
			if !ok {
				want, ok = s[d.Sym]
			}
			if ok && want != n {
				return nil, fmt.Errorf("@%s argument %d (%%%s : %s) has shape %v: dimension %d must be %d", f.Name, i, p.Name, p.Type, shape, j, want)
			}
			if !d.IsConst() {
				s[d.Sym] = n
			}
		}
	}
	return s, nil
}

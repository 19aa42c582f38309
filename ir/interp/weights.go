package interp

import (
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
	"github.com/omex-dev/omex/tensor"
)

// weightSet holds the weights the module's instructions read, in the form
// the kernels read them: matrices (rank 2: embedding tables and linear
// layers) kept in their stored element type, and vectors (rank 1: norm
// scales and biases) as float32.
type weightSet struct {
	mats map[string]*kernels.Matrix
	vecs map[string][]float32
}

// loadWeights fetches every weight some instruction of m references, once,
// through get, and checks it against its declaration. A weight no
// instruction reads is not fetched (a pass may have left it declared).
func loadWeights(m *ir.Module, get func(name string) (*tensor.Tensor, error)) (*weightSet, error) {
	ws := &weightSet{mats: map[string]*kernels.Matrix{}, vecs: map[string][]float32{}}
	for _, f := range m.Funcs {
		for _, in := range f.Body {
			for _, name := range in.Refs {
				w := m.Weight(name)
				if w == nil {
					continue // a state
				}
				if _, ok := ws.mats[name]; ok {
					continue
				}
				if _, ok := ws.vecs[name]; ok {
					continue
				}
				if err := ws.load(m, w, get); err != nil {
					return nil, err
				}
			}
		}
	}
	return ws, nil
}

// load fetches one weight and keeps it as a matrix or a vector.
func (ws *weightSet) load(m *ir.Module, w *ir.Weight, get func(name string) (*tensor.Tensor, error)) error {
	shape, err := concreteShape(m, w.Type)
	if err != nil {
		return omexerr.Modelf("model.weight_shape", "weight @%s : %s: %v", w.Name, w.Type, err).WithTensor(w.Name)
	}
	want, ok := w.Type.Elem.DType()
	if !ok {
		return omexerr.Modelf("model.weight_dtype", "weight @%s : %s: no op reads %s weights", w.Name, w.Type, w.Type.Elem).WithTensor(w.Name)
	}
	if len(shape) != 1 && len(shape) != 2 {
		return omexerr.Modelf("model.weight_shape", "weight @%s : %s: the interpreter reads weights of rank 1 or 2", w.Name, w.Type).WithTensor(w.Name)
	}
	t, err := get(w.Name)
	if err != nil {
		if _, ok := omexerr.As(err); ok {
			return err
		}
		return omexerr.Modelf("model.missing_tensor", "cannot read weight %s", w.Name).WithTensor(w.Name).Wrap(err)
	}
	if t == nil {
		return omexerr.Modelf("model.missing_tensor", "weight %s is missing", w.Name).WithTensor(w.Name)
	}
	if t.DType != want {
		if t, err = convert(t, want, w); err != nil {
			return err
		}
	}
	if len(shape) == 1 {
		v, err := kernels.Vector(t, w.Name, shape[0])
		if err != nil {
			return err
		}
		ws.vecs[w.Name] = v
		return nil
	}
	mat, err := kernels.NewMatrix(t, w.Name, shape[0], shape[1])
	if err != nil {
		return err
	}
	ws.mats[w.Name] = mat
	return nil
}

// convert turns a stored tensor into the element type the module declares
// for it (a precision pass may declare q8_0 for a weight stored as f32),
// with tensor.Convert: the bytes ggml's converters would write, so the
// interpreter computes what a backend reading the converted package would.
func convert(t *tensor.Tensor, want tensor.DType, w *ir.Weight) (*tensor.Tensor, error) {
	c, err := tensor.Convert(t, want)
	if err != nil {
		return nil, omexerr.Modelf("model.weight_dtype", "weight @%s is stored as %v and cannot become the declared %s", w.Name, t.DType, w.Type).WithTensor(w.Name).Wrap(err)
	}
	return c, nil
}

// concreteShape resolves a declared type's dimensions with the module's
// bindings (a weight or state has no free symbol once verified).
func concreteShape(m *ir.Module, t ir.Type) ([]int, error) {
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		if d.IsConst() {
			shape[i] = d.N
			continue
		}
		n, ok := m.DimValue(d.Sym)
		if !ok {
			return nil, errUnbound(d.Sym)
		}
		shape[i] = n
	}
	return shape, nil
}

// errUnbound is the error for a dimension symbol nothing binds.
type errUnbound string

func (e errUnbound) Error() string { return "dimension symbol " + string(e) + " is not bound" }

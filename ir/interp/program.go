package interp

import (
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"slices"
)

// program is a function prepared to run: one slot per SSA value and one
// step per instruction, each step a closure over its operands' slots, the
// weights it reads and its attributes (all looked up once, in New).
type program struct {
	fn      *ir.Func
	syms    []string // the dimension symbols of the function's types
	fixed   []int    // the module's binding of each symbol, -1 when free (seq)
	bind    []int    // this call's binding of each symbol
	last    []int    // the binding the slots' shapes were resolved for (nil: none yet)
	slots   []*slot  // instruction results, in body order
	params  []*slot
	results []*slot
	steps   []func() error
}

// slot holds one SSA value while a function runs. Its buffer is kept from
// call to call and only grows, so a decode step allocates nothing.
type slot struct {
	name  string
	elem  ir.Elem
	dims  []dimRef
	shape []int // this call's concrete shape
	n     int   // this call's element count
	f     []float32
	i     []int32
}

// maxElems bounds the elements of one value; a value the arguments'
// sizes could really produce stays far below it.
const maxElems = 1 << 47

// dimRef is a compiled dimension: the constant n, or the symbol syms[sym]
// when sym >= 0.
type dimRef struct{ n, sym int }

// alloc makes the slot's buffer hold n elements (contents undefined).
func (s *slot) alloc() {
	if s.elem == ir.I32 {
		if cap(s.i) < s.n {
			s.i = make([]int32, s.n)
		}
		s.i = s.i[:s.n]
		return
	}
	if cap(s.f) < s.n {
		s.f = make([]float32, s.n)
	}
	s.f = s.f[:s.n]
}

// value returns the slot's contents as a Value (sharing its memory).
func (s *slot) value() Value {
	v := Value{Elem: s.elem, Shape: s.shape}
	if s.elem == ir.I32 {
		v.I32 = s.i[:s.n]
	} else {
		v.F32 = s.f[:s.n]
	}
	return v
}

// rows is the product of every dimension but the last (1 for a scalar).
func (s *slot) rows() int {
	if len(s.shape) == 0 || s.shape[len(s.shape)-1] == 0 {
		return 0
	}
	return s.n / s.shape[len(s.shape)-1]
}

// compile prepares f to run.
func (ip *Interp) compile(f *ir.Func) (*program, error) {
	p := &program{fn: f}
	symIndex := map[string]int{}
	newSlot := func(v *ir.Value) *slot {
		s := &slot{name: v.Name, elem: v.Type.Elem, dims: make([]dimRef, len(v.Type.Shape)), shape: make([]int, len(v.Type.Shape))}
		for i, d := range v.Type.Shape {
			if d.IsConst() {
				s.dims[i] = dimRef{n: d.N, sym: -1}
				continue
			}
			k, ok := symIndex[d.Sym]
			if !ok {
				k = len(p.syms)
				symIndex[d.Sym] = k
				p.syms = append(p.syms, d.Sym)
				bound, ok := ip.m.DimValue(d.Sym)
				if !ok {
					bound = -1
				}
				p.fixed = append(p.fixed, bound)
			}
			s.dims[i] = dimRef{sym: k}
		}
		return s
	}
	slots := map[*ir.Value]*slot{}
	for _, v := range f.Params {
		s := newSlot(v)
		slots[v] = s
		p.params = append(p.params, s)
	}
	for idx, in := range f.Body {
		args := make([]*slot, len(in.Args))
		for i, a := range in.Args {
			args[i] = slots[a]
		}
		res := make([]*slot, len(in.Results))
		for i, r := range in.Results {
			res[i] = newSlot(r)
			slots[r] = res[i]
			p.slots = append(p.slots, res[i])
		}
		step, err := ip.compileInstr(in, args, res)
		if err != nil {
			return nil, omexerr.Modelf("model.invalid_ir", "@%s, instr %d (%s): %v", f.Name, idx, in, err)
		}
		p.steps = append(p.steps, step)
	}
	for _, r := range f.Results {
		p.results = append(p.results, slots[r])
	}
	p.bind = make([]int, len(p.syms))
	return p, nil
}

// bindArgs checks the arguments against the parameters, binds the free
// symbols from their shapes and points the parameter slots at their data.
func (p *program) bindArgs(args []Value) error {
	if len(args) != len(p.params) {
		return omexerr.Inputf("input.bad_arguments", "@%s takes %d arguments %s, got %d", p.fn.Name, len(p.params), paramList(p.fn), len(args))
	}
	copy(p.bind, p.fixed)
	for i, a := range args {
		ps, pv := p.params[i], p.fn.Params[i]
		bad := func(format string, args ...any) error {
			return omexerr.Inputf("input.bad_arguments", "@%s argument %d (%%%s : %s): "+format, append([]any{p.fn.Name, i, pv.Name, pv.Type}, args...)...)
		}
		if a.Elem != ps.elem || (a.Elem != ir.F32 && a.Elem != ir.I32) {
			return bad("got a %s value", a.Elem)
		}
		if len(a.Shape) != len(ps.dims) {
			return bad("got shape %v of rank %d", a.Shape, len(a.Shape))
		}
		for j, d := range ps.dims {
			n := a.Shape[j]
			switch {
			case n < 0:
				return bad("negative dimension in shape %v", a.Shape)
			case d.sym < 0:
				if n != d.n {
					return bad("dimension %d is %d, not %d", j, n, d.n)
				}
			case p.bind[d.sym] < 0:
				p.bind[d.sym] = n
			case p.bind[d.sym] != n:
				return bad("dimension %d (%s) is %d but %s is %d", j, p.syms[d.sym], n, p.syms[d.sym], p.bind[d.sym])
			}
		}
		n, ok := product(a.Shape)
		if !ok || n != a.Len() {
			return bad("shape %v does not match the %d elements given", a.Shape, a.Len())
		}
		ps.shape, ps.n = a.Shape, n
		ps.f, ps.i = a.F32, a.I32
	}
	return nil
}

// paramList prints a function's parameter list for messages.
func paramList(f *ir.Func) string {
	s := "("
	for i, v := range f.Params {
		if i > 0 {
			s += ", "
		}
		s += "%" + v.Name + ": " + v.Type.String()
	}
	return s + ")"
}

// resolve computes every slot's concrete shape from this call's binding
// (skipped when the binding is the previous call's, as in decoding).
func (p *program) resolve() error {
	if p.last != nil && slices.Equal(p.last, p.bind) {
		return nil
	}
	p.last = nil
	for _, s := range p.slots {
		n := 1
		for i, d := range s.dims {
			size := d.n
			if d.sym >= 0 {
				if size = p.bind[d.sym]; size < 0 {
					return omexerr.Executionf("execution.unbound_symbol", "@%s: %%%s: no argument binds dimension %s", p.fn.Name, s.name, p.syms[d.sym])
				}
			}
			s.shape[i] = size
			if size != 0 && n > maxElems/size {
				return omexerr.Resourcef("resource.value_too_large", "@%s: %%%s would have more than %d elements", p.fn.Name, s.name, maxElems)
			}
			n *= size
		}
		s.n = n
	}
	p.last = append([]int(nil), p.bind...)
	return nil
}

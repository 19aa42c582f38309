package ir

// Module is one compiled model: its dimension bindings, the weights and
// state its functions reference by name, and the functions themselves
// (usually "prefill" and "decode"). Slices keep declaration order, which is
// the order the text form prints.
type Module struct {
	Name    string
	Dims    []DimBinding
	Weights []*Weight
	States  []*State
	Funcs   []*Func
	plans   []*Plan // memory plans (plan.go): use Plan, Plans, SetPlan
}

// DimBinding fixes a dimension symbol to a size at compile time
// (`dim ctx = 512`). Symbols without a binding (seq) are known only when a
// function runs.
type DimBinding struct {
	Name  string
	Value int
}

// Weight declares a constant tensor a function reads by name (@name). Its
// data never enters the IR: the interpreter and backends fetch it by Name.
type Weight struct {
	Name   string
	Type   Type
	Layout string // how the target's kernels want the data arranged; "" is row-major (passes/layout.go)
}

// State declares a mutable tensor that lives across calls (the KV cache):
// attention writes rows of it and reads them back on later calls.
type State struct {
	Name string
	Type Type
}

// Func is a function: typed parameters, a straight-line body in SSA form
// and the values it returns.
type Func struct {
	Name    string
	Params  []*Value
	Body    []*Instr
	Results []*Value
}

// Value is an SSA value: a function parameter (Def == nil) or a result of
// the instruction Def. Its Name (printed as %Name) is unique within its
// function.
type Value struct {
	Name string
	Type Type
	Def  *Instr
}

// Instr is one operation: Op applied to SSA operands Args and named
// weight/state operands Refs, with attributes Attrs, defining Results.
// The text form prints Args first, then Refs (as @name), in the orders the
// op table gives (see docs/IR.md); Refs never hold SSA values and Args never
// name weights.
type Instr struct {
	Op      Op
	Args    []*Value
	Refs    []string
	Attrs   Attrs
	Results []*Value
}

// NewModule returns an empty module.
func NewModule(name string) *Module { return &Module{Name: name} }

// Func returns the function named name, or nil.
func (m *Module) Func(name string) *Func {
	for _, f := range m.Funcs {
		if f != nil && f.Name == name {
			return f
		}
	}
	return nil
}

// Weight returns the weight named name, or nil.
func (m *Module) Weight(name string) *Weight {
	for _, w := range m.Weights {
		if w != nil && w.Name == name {
			return w
		}
	}
	return nil
}

// State returns the state named name, or nil.
func (m *Module) State(name string) *State {
	for _, s := range m.States {
		if s != nil && s.Name == name {
			return s
		}
	}
	return nil
}

// DimValue returns the size the module binds symbol sym to.
func (m *Module) DimValue(sym string) (int, bool) {
	for _, d := range m.Dims {
		if d.Name == sym {
			return d.Value, true
		}
	}
	return 0, false
}

// AddDim binds symbol name to value. It fails on a bad or taken name or a
// size outside 1..MaxDim.
func (m *Module) AddDim(name string, value int) error {
	if !isSymbol(name) {
		return errorf("dim %q: not a symbol name", name)
	}
	if _, ok := m.DimValue(name); ok {
		return errorf("dim %s bound twice", name)
	}
	if value < 1 || value > MaxDim {
		return errorf("dim %s = %d: out of range 1..%d", name, value, MaxDim)
	}
	m.Dims = append(m.Dims, DimBinding{Name: name, Value: value})
	return nil
}

// AddWeight declares a weight. It fails when the name is taken (by a weight
// or a state) or the type is not one a weight can have.
func (m *Module) AddWeight(name string, t Type) (*Weight, error) {
	if err := m.checkDecl("weight", name, t); err != nil {
		return nil, err
	}
	w := &Weight{Name: name, Type: t.Clone()}
	m.Weights = append(m.Weights, w)
	return w, nil
}

// AddState declares a state tensor, with the same checks as AddWeight.
func (m *Module) AddState(name string, t Type) (*State, error) {
	if err := m.checkDecl("state", name, t); err != nil {
		return nil, err
	}
	s := &State{Name: name, Type: t.Clone()}
	m.States = append(m.States, s)
	return s, nil
}

// checkDecl checks a new weight or state declaration.
func (m *Module) checkDecl(kind, name string, t Type) error {
	if name == "" {
		return errorf("%s with an empty name", kind)
	}
	if m.Weight(name) != nil || m.State(name) != nil {
		return errorf("%s @%s: name already declared", kind, name)
	}
	if why := m.declTypeProblem(t); why != "" {
		return errorf("%s @%s : %s: %s", kind, name, t, why)
	}
	return nil
}

// declTypeProblem says why t cannot be the type of a weight or state, or
// returns "". Their sizes are fixed at compile time, so every symbol must be
// bound; quantized rows must hold whole blocks.
func (m *Module) declTypeProblem(t Type) string {
	if why := t.valid(); why != "" {
		return why
	}
	for _, d := range t.Shape {
		if d.IsConst() && d.N < 1 {
			return "dimensions must be at least 1"
		}
		if !d.IsConst() {
			if _, ok := m.DimValue(d.Sym); !ok {
				return "dimension symbol " + d.Sym + " is not bound by a dim declaration"
			}
		}
	}
	if t.Elem.Quantized() {
		if t.Rank() == 0 {
			return t.Elem.String() + " needs at least one dimension"
		}
		last := t.Shape[t.Rank()-1]
		if n, ok := m.dimSize(last); !ok || n%32 != 0 {
			return t.Elem.String() + " rows must be a multiple of 32 elements"
		}
	}
	return ""
}

// dimSize returns the size of d: its constant or its binding.
func (m *Module) dimSize(d Dim) (int, bool) {
	if d.IsConst() {
		return d.N, true
	}
	return m.DimValue(d.Sym)
}

// AddFunc appends a new empty function; it fails when the name is taken.
func (m *Module) AddFunc(name string) (*Func, error) {
	if name == "" {
		return nil, errorf("function with an empty name")
	}
	if m.Func(name) != nil {
		return nil, errorf("function @%s declared twice", name)
	}
	f := &Func{Name: name}
	m.Funcs = append(m.Funcs, f)
	return f, nil
}

// ResultTypes returns the types of the function's results: its signature's
// right-hand side.
func (f *Func) ResultTypes() []Type {
	ts := make([]Type, len(f.Results))
	for i, r := range f.Results {
		if r != nil {
			ts[i] = r.Type
		}
	}
	return ts
}

// Param returns the parameter named name, or nil.
func (f *Func) Param(name string) *Value {
	for _, p := range f.Params {
		if p != nil && p.Name == name {
			return p
		}
	}
	return nil
}

// Clone returns a deep copy of m: new weights, states, functions, values and
// instructions, sharing nothing with m, so a pass may mutate the copy.
func (m *Module) Clone() *Module {
	c := &Module{Name: m.Name, Dims: append([]DimBinding(nil), m.Dims...)}
	for _, w := range m.Weights {
		if w != nil {
			c.Weights = append(c.Weights, &Weight{Name: w.Name, Type: w.Type.Clone(), Layout: w.Layout})
		}
	}
	for _, s := range m.States {
		if s != nil {
			c.States = append(c.States, &State{Name: s.Name, Type: s.Type.Clone()})
		}
	}
	for _, f := range m.Funcs {
		if f != nil {
			c.Funcs = append(c.Funcs, f.Clone())
		}
	}
	for _, p := range m.Plans() {
		c.plans = append(c.plans, p.cloneFor(c.Func(p.Func)))
	}
	return c
}

// Clone returns a deep copy of f. Values and instructions map one to one;
// an operand that f does not define (an invalid function) is copied as a
// fresh value so the copy never points into f.
func (f *Func) Clone() *Func {
	vals := map[*Value]*Value{}
	get := func(v *Value) *Value {
		if v == nil {
			return nil
		}
		if c, ok := vals[v]; ok {
			return c
		}
		c := &Value{Name: v.Name, Type: v.Type.Clone()}
		vals[v] = c
		return c
	}
	c := &Func{Name: f.Name}
	for _, p := range f.Params {
		c.Params = append(c.Params, get(p))
	}
	for _, in := range f.Body {
		if in == nil {
			c.Body = append(c.Body, nil)
			continue
		}
		ci := &Instr{Op: in.Op, Attrs: in.Attrs.Clone()}
		if in.Refs != nil {
			ci.Refs = append([]string{}, in.Refs...)
		}
		for _, a := range in.Args {
			ci.Args = append(ci.Args, get(a))
		}
		for _, r := range in.Results {
			cr := get(r)
			if cr != nil {
				cr.Def = ci
			}
			ci.Results = append(ci.Results, cr)
		}
		c.Body = append(c.Body, ci)
	}
	for _, r := range f.Results {
		c.Results = append(c.Results, get(r))
	}
	return c
}

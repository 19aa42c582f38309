package ir

import (
	"fmt"
	"math"
	"sort"
)

// The result-type rules of the ops. Each rule checks its operands' element
// types and shapes and its attributes' values, and returns the result
// types; the verifier compares those with the declared ones and the
// builder uses them to type what it emits.

// maxCount bounds the head counts and sizes attributes may give, so their
// products stay far from overflow.
const maxCount = 1 << 20

// ruleCtx is what a rule sees: the module (to resolve @refs), the
// instruction and its operands by role.
type ruleCtx struct {
	m    *Module
	in   *Instr
	args map[string]Type
	refs map[string]string
}

// InferTypes returns the result types of op applied to args and refs with
// attrs in module m, or why the operands or attributes are wrong. The
// builder and passes that create instructions use it.
func InferTypes(m *Module, op Op, args []*Value, refs []string, attrs Attrs) ([]Type, error) {
	return inferTypes(m, &Instr{Op: op, Args: args, Refs: refs, Attrs: attrs})
}

// inferTypes runs in's op rule after the checks every op shares: known op,
// operand counts, non-nil args, attribute names and kinds.
func inferTypes(m *Module, in *Instr) ([]Type, error) {
	info := in.Op.Info()
	if info == nil {
		return nil, fmt.Errorf("unknown op %s", in.Op)
	}
	for _, name := range in.Attrs.Names() {
		spec := info.Attr(name)
		if spec == nil {
			return nil, fmt.Errorf("%s takes no attribute %q", info.Name, name)
		}
		if k := in.Attrs[name].Kind; k != spec.Kind {
			return nil, fmt.Errorf("attribute %s must be a %s, not a %s", name, spec.Kind, k)
		}
	}
	for _, spec := range info.Attrs {
		if spec.Required && !in.Attrs.Has(spec.Name) {
			return nil, fmt.Errorf("%s needs attribute %s", info.Name, spec.Name)
		}
	}
	argRoles, refRoles, err := info.roles(in)
	if err != nil {
		return nil, err
	}
	c := &ruleCtx{m: m, in: in, args: map[string]Type{}, refs: map[string]string{}}
	for i, a := range in.Args {
		if a == nil {
			return nil, fmt.Errorf("operand %d (%s) is missing", i, argRoles[i])
		}
		c.args[argRoles[i]] = a.Type
	}
	for i, r := range in.Refs {
		c.refs[refRoles[i]] = r
	}
	return info.rule(c)
}

// has reports whether the instruction has an operand in this role.
func (c *ruleCtx) has(role string) bool {
	if _, ok := c.args[role]; ok {
		return true
	}
	_, ok := c.refs[role]
	return ok
}

// weight returns the type of the weight the ref in this role names.
func (c *ruleCtx) weight(role string) (Type, error) {
	name := c.refs[role]
	w := c.m.Weight(name)
	if w == nil {
		if c.m.State(name) != nil {
			return Type{}, fmt.Errorf("%s @%s is a state, not a weight", role, name)
		}
		return Type{}, fmt.Errorf("%s @%s is not a declared weight", role, name)
	}
	if !w.Type.Elem.WeightFloat() {
		return Type{}, fmt.Errorf("%s @%s : %s: an op cannot read %s weights", role, name, w.Type, w.Type.Elem)
	}
	return w.Type, nil
}

// state returns the type of the state the ref in this role names.
func (c *ruleCtx) state(role string) (Type, error) {
	name := c.refs[role]
	s := c.m.State(name)
	if s == nil {
		if c.m.Weight(name) != nil {
			return Type{}, fmt.Errorf("%s @%s is a weight, not a state", role, name)
		}
		return Type{}, fmt.Errorf("%s @%s is not a declared state", role, name)
	}
	return s.Type, nil
}

// intAttr returns an int attribute that must be present and in lo..hi.
func (c *ruleCtx) intAttr(name string, lo, hi int64) (int, error) {
	a, ok := c.in.Attrs[name]
	if !ok || a.Kind != AttrInt {
		return 0, fmt.Errorf("needs int attribute %s", name)
	}
	if a.Int < lo || a.Int > hi {
		return 0, fmt.Errorf("attribute %s=%d out of range %d..%d", name, a.Int, lo, hi)
	}
	return int(a.Int), nil
}

// floatAttr returns a float attribute that must be present, finite and at
// least lo (above lo when strict).
func (c *ruleCtx) floatAttr(name string, lo float32, strict bool) (float32, error) {
	a, ok := c.in.Attrs[name]
	if !ok || a.Kind != AttrFloat {
		return 0, fmt.Errorf("needs float attribute %s", name)
	}
	f := a.Float
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || f < lo || strict && f == lo {
		cmp := ">="
		if strict {
			cmp = ">"
		}
		return 0, fmt.Errorf("attribute %s=%s must be finite and %s %s", name, formatFloat(f), cmp, formatFloat(lo))
	}
	return f, nil
}

// wantValue checks that an operand has element type e and a rank: exactly
// rank, or at least -rank-1 when rank < 0 (-1: any rank, -2: at least 1).
func wantValue(role string, t Type, e Elem, rank int) error {
	okRank := rank >= 0 && t.Rank() == rank || rank < 0 && t.Rank() >= -rank-1
	if t.Elem == e && okRank {
		return nil
	}
	switch {
	case rank == -1:
		return fmt.Errorf("%s must be %s, got %s", role, e, t)
	case rank < 0:
		return fmt.Errorf("%s must be %s of rank >= %d, got %s", role, e, -rank-1, t)
	}
	return fmt.Errorf("%s must be %s of rank %d, got %s", role, e, rank, t)
}

// last returns the last dimension of a type of rank >= 1.
func last(t Type) Dim { return t.Shape[len(t.Shape)-1] }

func embedRule(c *ruleCtx) ([]Type, error) {
	tok := c.args["tokens"]
	if err := wantValue("tokens", tok, I32, 1); err != nil {
		return nil, err
	}
	tab, err := c.weight("table")
	if err != nil {
		return nil, err
	}
	if tab.Rank() != 2 {
		return nil, fmt.Errorf("table @%s : %s must have rank 2 [vocab, dim]", c.refs["table"], tab)
	}
	return []Type{T(F32, tok.Shape[0], tab.Shape[1])}, nil
}

// matmulType checks x · wᵀ (+ bias) with the weight and bias in the given
// roles (no bias when the instruction has none in biasRole).
func (c *ruleCtx) matmulType(x Type, xRole, wRole, biasRole string) (Type, error) {
	if err := wantValue(xRole, x, F32, 2); err != nil {
		return Type{}, err
	}
	w, err := c.weight(wRole)
	if err != nil {
		return Type{}, err
	}
	if w.Rank() != 2 || w.Shape[1] != x.Shape[1] {
		return Type{}, fmt.Errorf("%s @%s : %s must be [N,%s] to multiply %s %s", wRole, c.refs[wRole], w, x.Shape[1], xRole, x)
	}
	if c.has(biasRole) {
		b, err := c.weight(biasRole)
		if err != nil {
			return Type{}, err
		}
		if b.Rank() != 1 || b.Shape[0] != w.Shape[0] {
			return Type{}, fmt.Errorf("%s @%s : %s must be [%s] like the rows of %s", biasRole, c.refs[biasRole], b, w.Shape[0], wRole)
		}
	}
	return T(F32, x.Shape[0], w.Shape[0]), nil
}

// rmsnormType checks rmsnorm of x with the weight in wRole and attribute eps.
func (c *ruleCtx) rmsnormType(x Type, wRole string) (Type, error) {
	if _, err := c.floatAttr("eps", 0, false); err != nil {
		return Type{}, err
	}
	if err := wantValue("x", x, F32, -2); err != nil {
		return Type{}, err
	}
	w, err := c.weight(wRole)
	if err != nil {
		return Type{}, err
	}
	if w.Rank() != 1 || w.Shape[0] != last(x) {
		return Type{}, fmt.Errorf("%s @%s : %s must be [%s] like the last axis of x %s", wRole, c.refs[wRole], w, last(x), x)
	}
	return x, nil
}

// ropeType checks a rope of x at pos with the head count in attribute
// headsAttr and the attributes head_dim, theta and layout.
func (c *ruleCtx) ropeType(x Type, xRole, headsAttr string) (Type, error) {
	heads, err := c.intAttr(headsAttr, 1, maxCount)
	if err != nil {
		return Type{}, err
	}
	hd, err := c.intAttr("head_dim", 2, maxCount)
	if err != nil {
		return Type{}, err
	}
	if hd%2 != 0 {
		return Type{}, fmt.Errorf("head_dim=%d must be even", hd)
	}
	if _, err := c.floatAttr("theta", 0, true); err != nil {
		return Type{}, err
	}
	layout, _ := c.in.Attrs.Str("layout")
	if layout != RopeInterleaved && layout != RopeHalfSplit {
		return Type{}, fmt.Errorf("layout=%q must be %q or %q", layout, RopeInterleaved, RopeHalfSplit)
	}
	if err := wantValue("pos", c.args["pos"], I32, 0); err != nil {
		return Type{}, err
	}
	if err := wantValue(xRole, x, F32, 2); err != nil {
		return Type{}, err
	}
	if d := last(x); d != C(heads*hd) {
		return Type{}, fmt.Errorf("%s %s: last axis must be %s*head_dim = %d", xRole, x, headsAttr, heads*hd)
	}
	return x, nil
}

// The rope layouts: which dimensions of a head rotate together.
const (
	RopeInterleaved = "interleaved" // pairs (2j, 2j+1): llama2.c, GGUF
	RopeHalfSplit   = "half_split"  // pairs (j, j+head_dim/2): Hugging Face
)

func matmulRule(c *ruleCtx) ([]Type, error) {
	t, err := c.matmulType(c.args["x"], "x", "w", "bias")
	return []Type{t}, err
}

func rmsnormRule(c *ruleCtx) ([]Type, error) {
	t, err := c.rmsnormType(c.args["x"], "w")
	return []Type{t}, err
}

func ropeRule(c *ruleCtx) ([]Type, error) {
	t, err := c.ropeType(c.args["x"], "x", "heads")
	return []Type{t}, err
}

func attentionRule(c *ruleCtx) ([]Type, error) {
	heads, err := c.intAttr("heads", 1, maxCount)
	if err != nil {
		return nil, err
	}
	kvHeads, err := c.intAttr("kv_heads", 1, maxCount)
	if err != nil {
		return nil, err
	}
	hd, err := c.intAttr("head_dim", 1, maxCount)
	if err != nil {
		return nil, err
	}
	if heads%kvHeads != 0 {
		return nil, fmt.Errorf("heads=%d must be a multiple of kv_heads=%d", heads, kvHeads)
	}
	q, k, v := c.args["q"], c.args["k"], c.args["v"]
	for _, o := range []struct {
		role  string
		t     Type
		width int
	}{{"q", q, heads * hd}, {"k", k, kvHeads * hd}, {"v", v, kvHeads * hd}} {
		if err := wantValue(o.role, o.t, F32, 2); err != nil {
			return nil, err
		}
		if last(o.t) != C(o.width) {
			return nil, fmt.Errorf("%s %s: last axis must be %d", o.role, o.t, o.width)
		}
		if o.t.Shape[0] != q.Shape[0] {
			return nil, fmt.Errorf("%s %s: must have the rows of q %s", o.role, o.t, q)
		}
	}
	if err := wantValue("pos", c.args["pos"], I32, 0); err != nil {
		return nil, err
	}
	ks, err := c.state("kcache")
	if err != nil {
		return nil, err
	}
	vs, err := c.state("vcache")
	if err != nil {
		return nil, err
	}
	if ks.Elem != F32 || ks.Rank() != 2 || last(ks) != C(kvHeads*hd) {
		return nil, fmt.Errorf("kcache @%s : %s must be f32[ctx,%d]", c.refs["kcache"], ks, kvHeads*hd)
	}
	if !vs.Equal(ks) {
		return nil, fmt.Errorf("vcache @%s : %s must have the type of kcache %s", c.refs["vcache"], vs, ks)
	}
	if c.refs["kcache"] == c.refs["vcache"] {
		return nil, fmt.Errorf("kcache and vcache are the same state @%s", c.refs["kcache"])
	}
	return []Type{T(F32, q.Shape[0], C(heads*hd))}, nil
}

// unaryRule is the rule of an f32 elementwise or last-axis op: the result
// has the operand's type.
func unaryRule(minRank int) func(c *ruleCtx) ([]Type, error) {
	return func(c *ruleCtx) ([]Type, error) {
		x := c.args["x"]
		if err := wantValue("x", x, F32, -minRank-1); err != nil {
			return nil, err
		}
		return []Type{x}, nil
	}
}

func binaryRule(c *ruleCtx) ([]Type, error) {
	a, b := c.args["a"], c.args["b"]
	if err := wantValue("a", a, F32, -1); err != nil {
		return nil, err
	}
	if err := wantValue("b", b, F32, -1); err != nil {
		return nil, err
	}
	switch {
	case a.Equal(b), b.Rank() == 0:
		return []Type{a}, nil
	case a.Rank() == 0:
		return []Type{b}, nil
	}
	return nil, fmt.Errorf("a %s and b %s must have the same shape (or one be a scalar)", a, b)
}

// reshapeRule: shape entries > 0 are sizes, 0 keeps the input's dimension
// at that index (how a symbolic dimension passes through), and one -1 is
// inferred so the element count stays the same.
func reshapeRule(c *ruleCtx) ([]Type, error) {
	x := c.args["x"]
	if x.Elem != F32 && x.Elem != I32 {
		return nil, fmt.Errorf("x must be f32 or i32, got %s", x)
	}
	shape, _ := c.in.Attrs.Ints("shape")
	in := countOf(x.Shape)
	var out elemCount
	out.n = 1
	infer := -1
	dims := make([]Dim, len(shape))
	for i, s := range shape {
		switch {
		case s == -1 && infer < 0:
			infer = i
			continue
		case s == 0 && i < x.Rank():
			dims[i] = x.Shape[i]
		case s > 0 && s <= MaxDim:
			dims[i] = C(s)
		default:
			return nil, fmt.Errorf("shape[%d]=%d: want a size, 0 (an input dim at that index) or one -1", i, s)
		}
		out.mul(dims[i])
	}
	if infer >= 0 {
		d, ok := in.div(out)
		if !ok {
			return nil, fmt.Errorf("shape %v: the -1 of %s cannot be inferred as one dimension", shape, x)
		}
		dims[infer] = d
		out.mul(d)
	}
	if !in.equal(out) {
		return nil, fmt.Errorf("shape %v: %s has a different number of elements", shape, x)
	}
	return []Type{T(x.Elem, dims...)}, nil
}

// elemCount is a product of dimensions: a constant times symbols.
type elemCount struct {
	n    int64 // 0 when a zero dimension makes the product 0
	syms []string
	big  bool // the constant overflowed: the count matches nothing
}

func countOf(shape []Dim) elemCount {
	e := elemCount{n: 1}
	for _, d := range shape {
		e.mul(d)
	}
	return e
}

func (e *elemCount) mul(d Dim) {
	if !d.IsConst() {
		e.syms = append(e.syms, d.Sym)
		sort.Strings(e.syms)
		return
	}
	if d.N != 0 && e.n > math.MaxInt64/int64(d.N) {
		e.big = true
	}
	e.n *= int64(d.N)
}

func (e elemCount) equal(f elemCount) bool {
	if e.big || f.big {
		return false
	}
	if e.n == 0 && f.n == 0 {
		return true
	}
	if e.n != f.n || len(e.syms) != len(f.syms) {
		return false
	}
	for i := range e.syms {
		if e.syms[i] != f.syms[i] {
			return false
		}
	}
	return true
}

// div returns the one dimension d with e = f * d, when there is one.
func (e elemCount) div(f elemCount) (Dim, bool) {
	if e.big || f.big || f.n == 0 || e.n%f.n != 0 {
		return Dim{}, false
	}
	left := append([]string{}, e.syms...)
	for _, s := range f.syms {
		i := sort.SearchStrings(left, s)
		if i == len(left) || left[i] != s {
			return Dim{}, false
		}
		left = append(left[:i], left[i+1:]...)
	}
	q := e.n / f.n
	switch {
	case len(left) == 0 && q <= MaxDim:
		return C(int(q)), true
	case len(left) == 1 && q == 1:
		return S(left[0]), true
	}
	return Dim{}, false
}

// sliceRule: start and end (absent: the end of the axis) count from the
// end when negative. On a symbolic axis the result length must still be a
// constant or the whole axis, so start and end must count from the same
// side.
func sliceRule(c *ruleCtx) ([]Type, error) {
	x := c.args["x"]
	if x.Elem != F32 && x.Elem != I32 {
		return nil, fmt.Errorf("x must be f32 or i32, got %s", x)
	}
	axis, err := c.intAttr("axis", 0, int64(max(x.Rank()-1, 0)))
	if err != nil {
		return nil, err
	}
	if x.Rank() == 0 {
		return nil, fmt.Errorf("x %s is a scalar", x)
	}
	start, _ := c.in.Attrs.Int("start")
	end, hasEnd := c.in.Attrs.Int("end")
	if start < -MaxDim || start > MaxDim || end < -MaxDim || end > MaxDim {
		return nil, fmt.Errorf("start=%d end=%d out of range", start, end)
	}
	d := x.Shape[axis]
	var n Dim
	if d.IsConst() {
		s, e := start, d.N
		if hasEnd {
			e = end
		}
		if s < 0 {
			s += d.N
		}
		if e < 0 {
			e += d.N
		}
		if s < 0 || e > d.N || s > e {
			return nil, fmt.Errorf("start=%d end=%d outside axis %d of %s", start, end, axis, x)
		}
		n = C(e - s)
	} else {
		switch {
		case start < 0 && !hasEnd:
			n = C(-start)
		case start < 0 && end < 0 && start <= end, start >= 0 && hasEnd && end >= start:
			n = C(end - start)
		case start == 0 && !hasEnd:
			n = d
		default:
			return nil, fmt.Errorf("start=%d end=%d on symbolic axis %s: the length would not be a constant", start, end, d)
		}
	}
	dims := append([]Dim{}, x.Shape...)
	dims[axis] = n
	return []Type{T(x.Elem, dims...)}, nil
}

func transposeRule(c *ruleCtx) ([]Type, error) {
	x := c.args["x"]
	if x.Elem != F32 && x.Elem != I32 {
		return nil, fmt.Errorf("x must be f32 or i32, got %s", x)
	}
	perm, _ := c.in.Attrs.Ints("perm")
	if len(perm) != x.Rank() {
		return nil, fmt.Errorf("perm %v must list each of the %d axes of %s once", perm, x.Rank(), x)
	}
	seen := make([]bool, len(perm))
	dims := make([]Dim, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			return nil, fmt.Errorf("perm %v must list each of the %d axes of %s once", perm, x.Rank(), x)
		}
		seen[p] = true
		dims[i] = x.Shape[p]
	}
	return []Type{T(x.Elem, dims...)}, nil
}

func argmaxRule(c *ruleCtx) ([]Type, error) {
	x := c.args["x"]
	if err := wantValue("x", x, F32, -2); err != nil {
		return nil, err
	}
	return []Type{T(I32, x.Shape[:x.Rank()-1]...)}, nil
}

func constRule(c *ruleCtx) ([]Type, error) {
	return []Type{T(F32)}, nil
}

func rmsnormMatmulRule(c *ruleCtx) ([]Type, error) {
	h, err := c.rmsnormType(c.args["x"], "norm")
	if err != nil {
		return nil, err
	}
	t, err := c.matmulType(h, "x", "w", "bias")
	return []Type{t}, err
}

// prologue returns the input of a fused matmul: x, normalized when the
// instruction has the rmsnorm prologue (an eps attribute).
func (c *ruleCtx) prologue() (Type, error) {
	x := c.args["x"]
	if !c.in.Attrs.Has("eps") {
		return x, nil
	}
	return c.rmsnormType(x, "norm")
}

func qkvRule(c *ruleCtx) ([]Type, error) {
	h, err := c.prologue()
	if err != nil {
		return nil, err
	}
	var ts [3]Type
	for i, r := range [3][3]string{{"q", "wq", "bq"}, {"k", "wk", "bk"}, {"v", "wv", "bv"}} {
		if ts[i], err = c.matmulType(h, "x", r[1], r[2]); err != nil {
			return nil, err
		}
	}
	if !c.has("pos") {
		for _, a := range []string{"heads", "kv_heads", "head_dim", "layout"} {
			if c.in.Attrs.Has(a) {
				return nil, fmt.Errorf("attribute %s without theta: the rope epilogue needs heads, kv_heads, head_dim, theta and layout", a)
			}
		}
		return ts[:], nil
	}
	if ts[0], err = c.ropeType(ts[0], "q", "heads"); err != nil {
		return nil, err
	}
	if ts[1], err = c.ropeType(ts[1], "k", "kv_heads"); err != nil {
		return nil, err
	}
	return ts[:], nil
}

func gateUpRule(c *ruleCtx) ([]Type, error) {
	h, err := c.prologue()
	if err != nil {
		return nil, err
	}
	g, err := c.matmulType(h, "x", "wg", "bg")
	if err != nil {
		return nil, err
	}
	u, err := c.matmulType(h, "x", "wu", "bu")
	if err != nil {
		return nil, err
	}
	if !g.Equal(u) {
		return nil, fmt.Errorf("gate %s and up %s projections differ in shape", g, u)
	}
	return []Type{g}, nil
}

func matmulRopeRule(c *ruleCtx) ([]Type, error) {
	h, err := c.prologue()
	if err != nil {
		return nil, err
	}
	y, err := c.matmulType(h, "x", "w", "bias")
	if err != nil {
		return nil, err
	}
	t, err := c.ropeType(y, "x·w", "heads")
	return []Type{t}, err
}

func matmulAddRule(c *ruleCtx) ([]Type, error) {
	y, err := c.matmulType(c.args["x"], "x", "w", "bias")
	if err != nil {
		return nil, err
	}
	if r := c.args["residual"]; !r.Equal(y) {
		return nil, fmt.Errorf("residual %s must have the type of x·w %s", r, y)
	}
	return []Type{y}, nil
}

package ir

import "strconv"

// Builder appends instructions to a function, typing each result by its
// op's rule. Errors are sticky: the first bad operand or shape is kept in
// Err, and from then on every method does nothing and returns nil values,
// so straight-line lowering code can check once at the end.
type Builder struct {
	M     *Module
	F     *Func
	err   error
	taken map[string]bool
	next  int
}

// NewBuilder returns a builder that appends to f, whose @operands resolve
// in m.
func NewBuilder(m *Module, f *Func) *Builder {
	return &Builder{M: m, F: f, taken: f.names()}
}

// Err returns the first error any method met, or nil.
func (b *Builder) Err() error { return b.err }

// fail records err when it is the first.
func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Param adds a parameter named name (made unique) of type t.
func (b *Builder) Param(name string, t Type) *Value {
	if b.err != nil {
		return nil
	}
	if why := t.valid(); why != "" {
		b.fail(errorf("func @%s: parameter %%%s : %s: %s", b.F.Name, name, t, why))
		return nil
	}
	v := &Value{Name: b.fresh(name), Type: t.Clone()}
	b.F.Params = append(b.F.Params, v)
	return v
}

// fresh returns an unused name from hint (numbers when hint is empty) and
// marks it used.
func (b *Builder) fresh(hint string) string {
	name := freshName(b.taken, hint, b.next)
	b.taken[name] = true
	if hint == "" {
		n, _ := strconv.Atoi(name)
		b.next = n + 1
	}
	return name
}

// Name renames v to hint (made unique in the function) and returns v; the
// lowering uses it for readable dumps (%q.0, %logits).
func (b *Builder) Name(v *Value, hint string) *Value {
	if v == nil || hint == "" || v.Name == hint {
		return v
	}
	delete(b.taken, v.Name)
	v.Name = b.fresh(hint)
	return v
}

// Emit appends op applied to args and refs with attrs and returns its
// results (nil after an error).
func (b *Builder) Emit(op Op, args []*Value, refs []string, attrs Attrs) []*Value {
	if b.err != nil {
		return nil
	}
	in := &Instr{Op: op, Args: args, Refs: refs, Attrs: attrs}
	ts, err := inferTypes(b.M, in)
	if err != nil {
		b.fail(errorf("func @%s: instr %d (%s): %v", b.F.Name, len(b.F.Body), op, err))
		return nil
	}
	for _, t := range ts {
		in.Results = append(in.Results, &Value{Name: b.fresh(""), Type: t, Def: in})
	}
	b.F.Body = append(b.F.Body, in)
	return in.Results
}

// emit1 appends a single-result op and returns the result.
func (b *Builder) emit1(op Op, args []*Value, refs []string, attrs Attrs) *Value {
	rs := b.Emit(op, args, refs, attrs)
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

// Return sets the function's results.
func (b *Builder) Return(vals ...*Value) {
	if b.err != nil {
		return
	}
	for i, v := range vals {
		if v == nil {
			b.fail(errorf("func @%s: return value %d is nil", b.F.Name, i))
			return
		}
	}
	b.F.Results = append([]*Value(nil), vals...)
}

// Rope holds the attributes of a rotary embedding.
type Rope struct {
	Heads, HeadDim int
	Theta          float32
	Layout         string // RopeInterleaved or RopeHalfSplit
}

// attrs adds r's attributes to into and returns it.
func (r Rope) attrs(into Attrs) Attrs {
	into["heads"] = IntAttr(r.Heads)
	into["head_dim"] = IntAttr(r.HeadDim)
	into["theta"] = FloatAttr(r.Theta)
	into["layout"] = StringAttr(r.Layout)
	return into
}

// Embed looks up the rows of table for tokens (i32[s]): f32[s,D].
func (b *Builder) Embed(tokens *Value, table string) *Value {
	return b.emit1(OpEmbed, []*Value{tokens}, []string{table}, nil)
}

// MatMul multiplies x (f32[s,K]) by weight w ([N,K]) and adds the optional
// bias ([N]): f32[s,N].
func (b *Builder) MatMul(x *Value, w string, bias ...string) *Value {
	return b.emit1(OpMatMul, []*Value{x}, append([]string{w}, bias...), nil)
}

// RMSNorm normalizes the last axis of x and scales it by weight w.
func (b *Builder) RMSNorm(x *Value, w string, eps float32) *Value {
	return b.emit1(OpRMSNorm, []*Value{x}, []string{w}, Attrs{"eps": FloatAttr(eps)})
}

// Rope rotates the heads of x; row i is at position pos+i (pos: i32[]).
func (b *Builder) Rope(x, pos *Value, r Rope) *Value {
	return b.emit1(OpRope, []*Value{x, pos}, nil, r.attrs(Attrs{}))
}

// Attention writes k and v into the states kcache and vcache at rows
// pos.., then returns causal attention of q over rows 0..pos+i.
func (b *Builder) Attention(q, k, v, pos *Value, kcache, vcache string, heads, kvHeads, headDim int) *Value {
	return b.emit1(OpAttention, []*Value{q, k, v, pos}, []string{kcache, vcache},
		Attrs{"heads": IntAttr(heads), "kv_heads": IntAttr(kvHeads), "head_dim": IntAttr(headDim)})
}

// Softmax normalizes the last axis of x.
func (b *Builder) Softmax(x *Value) *Value { return b.emit1(OpSoftmax, []*Value{x}, nil, nil) }

// Silu applies x * sigmoid(x) elementwise.
func (b *Builder) Silu(x *Value) *Value { return b.emit1(OpSilu, []*Value{x}, nil, nil) }

// Gelu applies the exact (erf) GELU elementwise.
func (b *Builder) Gelu(x *Value) *Value { return b.emit1(OpGelu, []*Value{x}, nil, nil) }

// Mul multiplies elementwise.
func (b *Builder) Mul(x, y *Value) *Value { return b.emit1(OpMul, []*Value{x, y}, nil, nil) }

// Add adds elementwise.
func (b *Builder) Add(x, y *Value) *Value { return b.emit1(OpAdd, []*Value{x, y}, nil, nil) }

// Reshape gives x a new shape (0 keeps the input dim at that index, one -1
// is inferred).
func (b *Builder) Reshape(x *Value, shape ...int) *Value {
	return b.emit1(OpReshape, []*Value{x}, nil, Attrs{"shape": IntsAttr(shape...)})
}

// Slice keeps elements start.. of an axis to its end (negative start
// counts from the end: Slice(x, 0, -1) is the last row).
func (b *Builder) Slice(x *Value, axis, start int) *Value {
	return b.emit1(OpSlice, []*Value{x}, nil, Attrs{"axis": IntAttr(axis), "start": IntAttr(start)})
}

// SliceRange keeps elements start..end-1 of an axis.
func (b *Builder) SliceRange(x *Value, axis, start, end int) *Value {
	return b.emit1(OpSlice, []*Value{x}, nil, Attrs{"axis": IntAttr(axis), "start": IntAttr(start), "end": IntAttr(end)})
}

// Transpose permutes the axes of x.
func (b *Builder) Transpose(x *Value, perm ...int) *Value {
	return b.emit1(OpTranspose, []*Value{x}, nil, Attrs{"perm": IntsAttr(perm...)})
}

// Argmax returns the index of the largest element of the last axis.
func (b *Builder) Argmax(x *Value) *Value { return b.emit1(OpArgmax, []*Value{x}, nil, nil) }

// Const returns the f32 scalar v.
func (b *Builder) Const(v float32) *Value {
	return b.emit1(OpConst, nil, nil, Attrs{"value": FloatAttr(v)})
}

// normRefs returns the refs and attrs of an optional rmsnorm prologue:
// none when norm is "".
func normRefs(norm string, eps float32) ([]string, Attrs) {
	if norm == "" {
		return nil, Attrs{}
	}
	return []string{norm}, Attrs{"eps": FloatAttr(eps)}
}

// RMSNormMatMul is MatMul(RMSNorm(x, norm, eps), w, bias...).
func (b *Builder) RMSNormMatMul(x *Value, norm string, eps float32, w string, bias ...string) *Value {
	return b.emit1(OpRMSNormMatMul, []*Value{x}, append([]string{norm, w}, bias...), Attrs{"eps": FloatAttr(eps)})
}

// QKV describes a matmul_qkv: the three projections of one input, with an
// optional rmsnorm prologue (Norm != "") and an optional rope epilogue on q
// and k (Pos != nil; q uses Rope.Heads, k uses KVHeads).
type QKV struct {
	Norm       string
	Eps        float32
	WQ, WK, WV string
	BQ, BK, BV string // all or none
	Pos        *Value
	Rope       Rope
	KVHeads    int
}

// MatMulQKV emits a matmul_qkv and returns q, k and v.
func (b *Builder) MatMulQKV(x *Value, p QKV) (q, k, v *Value) {
	refs, attrs := normRefs(p.Norm, p.Eps)
	refs = append(refs, p.WQ, p.WK, p.WV)
	if p.BQ != "" || p.BK != "" || p.BV != "" {
		refs = append(refs, p.BQ, p.BK, p.BV)
	}
	args := []*Value{x}
	if p.Pos != nil {
		args = append(args, p.Pos)
		p.Rope.attrs(attrs)
		attrs["kv_heads"] = IntAttr(p.KVHeads)
	}
	rs := b.Emit(OpMatMulQKV, args, refs, attrs)
	if len(rs) != 3 {
		return nil, nil, nil
	}
	return rs[0], rs[1], rs[2]
}

// MatMulGateUp is Mul(Silu(x·wg), x·wu) with an optional rmsnorm prologue
// (norm != "") and optional biases (bg, bu).
func (b *Builder) MatMulGateUp(x *Value, norm string, eps float32, wg, wu string, biases ...string) *Value {
	refs, attrs := normRefs(norm, eps)
	refs = append(append(refs, wg, wu), biases...)
	return b.emit1(OpMatMulGateUp, []*Value{x}, refs, attrs)
}

// MatMulRope is Rope(x·w [+ bias], pos) with an optional rmsnorm prologue.
func (b *Builder) MatMulRope(x, pos *Value, norm string, eps float32, w string, r Rope, bias ...string) *Value {
	refs, attrs := normRefs(norm, eps)
	refs = append(append(refs, w), bias...)
	return b.emit1(OpMatMulRope, []*Value{x, pos}, refs, r.attrs(attrs))
}

// MatMulAdd is x·w [+ bias] + residual.
func (b *Builder) MatMulAdd(x, residual *Value, w string, bias ...string) *Value {
	return b.emit1(OpMatMulAdd, []*Value{x, residual}, append([]string{w}, bias...), nil)
}

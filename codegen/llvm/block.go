package llvm

import (
	"fmt"
	"strings"
)

// Block is a basic block: phis first, then instructions, then one
// terminator. The builder methods append an instruction and return its
// result. Misuse (mismatched types, an instruction after the terminator)
// is a bug in the generator and panics; generated kernels are tested.
type Block struct {
	f     *Function
	name  string
	phis  []*Phi
	insts []string
	term  string
}

// Name is the block's label (without %).
func (b *Block) Name() string { return b.name }

// Func is the function the block belongs to.
func (b *Block) Func() *Function { return b.f }

// inst appends an instruction; with a non-void t it defines a new value
// named after hint and returns it.
func (b *Block) inst(t Type, hint, format string, args ...any) Value {
	if b.term != "" {
		panic(fmt.Sprintf("llvm: instruction after the terminator of %%%s", b.name))
	}
	text := fmt.Sprintf(format, args...)
	if t == Void {
		b.insts = append(b.insts, text)
		return nil
	}
	r := &register{t: t, name: "%" + b.f.fresh(hint)}
	b.insts = append(b.insts, r.name+" = "+text)
	return r
}

func sameType(op string, a, c Value) {
	if a.Type() != c.Type() {
		panic(fmt.Sprintf("llvm: %s of %v and %v", op, a.Type(), c.Type()))
	}
}

// Bin applies the binary operator op ("fadd", "fmul", "fdiv", "add",
// "and", "shl", ...) to a and c, which have the same type. No fast-math
// flags are ever set: each float operation rounds as IEEE says.
func (b *Block) Bin(op string, a, c Value, hint string) Value {
	sameType(op, a, c)
	return b.inst(a.Type(), hint, "%s %s, %s", op, typed(a), c)
}

// FAdd is a + c (floats).
func (b *Block) FAdd(a, c Value, hint string) Value { return b.Bin("fadd", a, c, hint) }

// FMul is a * c (floats).
func (b *Block) FMul(a, c Value, hint string) Value { return b.Bin("fmul", a, c, hint) }

// FDiv is a / c (floats).
func (b *Block) FDiv(a, c Value, hint string) Value { return b.Bin("fdiv", a, c, hint) }

// Add is a + c (integers, wrapping).
func (b *Block) Add(a, c Value, hint string) Value { return b.Bin("add", a, c, hint) }

// Mul is a * c (integers, wrapping).
func (b *Block) Mul(a, c Value, hint string) Value { return b.Bin("mul", a, c, hint) }

// Cast converts v to type to with op ("sitofp", "fpext", "zext", "sext",
// "trunc", "fptrunc", "bitcast").
func (b *Block) Cast(op string, v Value, to Type, hint string) Value {
	if v.Type().Lanes() != to.Lanes() {
		panic(fmt.Sprintf("llvm: %s from %v to %v", op, v.Type(), to))
	}
	return b.inst(to, hint, "%s %s to %v", op, typed(v), to)
}

// ICmp compares integers with predicate pred ("eq", "slt", ...), giving
// i1 or a vector of i1.
func (b *Block) ICmp(pred string, a, c Value, hint string) Value {
	sameType("icmp", a, c)
	t := I1
	if n := a.Type().Lanes(); n > 0 {
		t = Vector(n, I1)
	}
	return b.inst(t, hint, "icmp %s %s, %s", pred, typed(a), c)
}

// Select is cond ? a : c (lane-wise for a vector condition).
func (b *Block) Select(cond, a, c Value, hint string) Value {
	sameType("select", a, c)
	return b.inst(a.Type(), hint, "select %s, %s, %s", typed(cond), typed(a), typed(c))
}

// Load reads a value of type t from p, which is aligned to align bytes.
func (b *Block) Load(t Type, p Value, align int, hint string) Value {
	return b.inst(t, hint, "load %v, %s, align %d", t, typed(p), align)
}

// Store writes v to p, aligned to align bytes.
func (b *Block) Store(v, p Value, align int) {
	b.inst(Void, "", "store %s, %s, align %d", typed(v), typed(p), align)
}

// GEP is p advanced by idx elements of type elem (getelementptr
// inbounds); idx is an i64.
func (b *Block) GEP(elem Type, p, idx Value, hint string) Value {
	return b.inst(Ptr, hint, "getelementptr inbounds %v, %s, %s", elem, typed(p), typed(idx))
}

// ByteOffset is p + off bytes.
func (b *Block) ByteOffset(p Value, off Value, hint string) Value { return b.GEP(I8, p, off, hint) }

// InsertElement is vec with lane i replaced by elt.
func (b *Block) InsertElement(vec, elt Value, i int, hint string) Value {
	return b.inst(vec.Type(), hint, "insertelement %s, %s, i32 %d", typed(vec), typed(elt), i)
}

// ExtractElement is lane i of vec.
func (b *Block) ExtractElement(vec Value, i int, hint string) Value {
	return b.inst(vec.Type().Scalar(), hint, "extractelement %s, i32 %d", typed(vec), i)
}

// Splat broadcasts the scalar v to every lane of a <lanes x T> vector
// (insertelement into poison, then a shufflevector with a zero mask: the
// form every backend turns into one broadcast instruction).
func (b *Block) Splat(v Value, lanes int, hint string) Value {
	vt := Vector(lanes, v.Type())
	one := b.InsertElement(Poison(vt), v, 0, hint+".ins")
	return b.inst(vt, hint, "shufflevector %s, %s, %v zeroinitializer", typed(one), typed(Poison(vt)), Vector(lanes, I32))
}

// Call calls fn (an intrinsic declared with Module.Declare) returning ret.
func (b *Block) Call(ret Type, fn string, args []Value, hint string) Value {
	as := make([]string, len(args))
	for i, a := range args {
		as[i] = typed(a)
	}
	return b.inst(ret, hint, "call %v @%s(%s)", ret, fn, strings.Join(as, ", "))
}

// Phi starts a phi of type t at the head of b; its incoming values are
// added with AddIncoming once the predecessors exist.
func (b *Block) Phi(t Type, hint string) *Phi {
	p := &Phi{register: register{t: t, name: "%" + b.f.fresh(hint)}}
	b.phis = append(b.phis, p)
	return p
}

// Br ends b with a jump to to.
func (b *Block) Br(to *Block) { b.terminate("br label %" + to.name) }

// CondBr ends b with a jump to t when cond (i1) is true, else to e.
func (b *Block) CondBr(cond Value, t, e *Block) {
	b.terminate(fmt.Sprintf("br %s, label %%%s, label %%%s", typed(cond), t.name, e.name))
}

// Ret ends b returning v, or nothing when v is nil.
func (b *Block) Ret(v Value) {
	if v == nil {
		b.terminate("ret void")
		return
	}
	b.terminate("ret " + typed(v))
}

func (b *Block) terminate(text string) {
	if b.term != "" {
		panic(fmt.Sprintf("llvm: block %%%s terminated twice", b.name))
	}
	b.term = text
}

func (b *Block) render(sb *strings.Builder) {
	if b.term == "" {
		panic(fmt.Sprintf("llvm: block %%%s of @%s has no terminator", b.name, b.f.name))
	}
	fmt.Fprintf(sb, "%s:\n", b.name)
	for _, p := range b.phis {
		sb.WriteString("  ")
		sb.WriteString(p.render())
		sb.WriteString("\n")
	}
	for _, in := range b.insts {
		sb.WriteString("  ")
		sb.WriteString(in)
		sb.WriteString("\n")
	}
	sb.WriteString("  ")
	sb.WriteString(b.term)
	sb.WriteString("\n")
}

// Phi is a phi instruction: its value is the incoming value of the
// predecessor control came from.
type Phi struct {
	register
	in []phiIn
}

type phiIn struct {
	v    Value
	from *Block
}

// AddIncoming records that coming from block from, the phi is v.
func (p *Phi) AddIncoming(v Value, from *Block) {
	if v.Type() != p.t {
		panic(fmt.Sprintf("llvm: phi %s of %v gets %v", p.name, p.t, v.Type()))
	}
	p.in = append(p.in, phiIn{v, from})
}

func (p *Phi) render() string {
	if len(p.in) == 0 {
		panic(fmt.Sprintf("llvm: phi %s has no incoming values", p.name))
	}
	parts := make([]string, len(p.in))
	for i, in := range p.in {
		parts[i] = fmt.Sprintf("[ %s, %%%s ]", in.v, in.from.name)
	}
	return fmt.Sprintf("%s = phi %v %s", p.name, p.t, strings.Join(parts, ", "))
}

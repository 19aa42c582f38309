package llvm

import (
	"fmt"
	"slices"
	"strings"
)

// Module is an LLVM IR module under construction: a target triple, global
// constants, intrinsic declarations and function definitions. String
// renders it as an .ll file. It is a small emitter of our own (the issue
// named github.com/llir/llvm, which this build cannot fetch): just the IR
// the kernels need, always with opaque pointers (`ptr`).
type Module struct {
	Triple  string
	globals []string
	decls   map[string]string // name -> declare line
	funcs   []*Function
	attrs   []string // attribute group bodies; group i is #i
}

// NewModule starts a module for the target triple, e.g.
// "x86_64-unknown-linux-gnu".
func NewModule(triple string) *Module {
	return &Module{Triple: triple, decls: map[string]string{}}
}

// GlobalBytes defines an external constant byte array @name holding data,
// aligned to align bytes.
func (m *Module) GlobalBytes(name string, data []byte, align int) {
	var b strings.Builder
	fmt.Fprintf(&b, "@%s = constant [%d x i8] c\"", name, len(data))
	for _, c := range data {
		fmt.Fprintf(&b, "\\%02X", c)
	}
	fmt.Fprintf(&b, "\", align %d", align)
	m.globals = append(m.globals, b.String())
}

// Declare declares an external function (the kernels declare only LLVM
// intrinsics, which compile to instructions, never to calls).
func (m *Module) Declare(name string, ret Type, params ...Type) {
	ps := make([]string, len(params))
	for i, p := range params {
		ps[i] = p.String()
	}
	m.decls[name] = fmt.Sprintf("declare %v @%s(%s)", ret, name, strings.Join(ps, ", "))
}

// Param is a function parameter: its name (without %), type and
// parameter attributes (e.g. "noalias nocapture readonly").
type Param struct {
	Name  string
	Type  Type
	Attrs string
}

// NewFunction adds the definition of @name returning ret. attrs are the
// function attributes (`nounwind`, `"target-features"="+avx2"`, ...), kept
// as one attribute group; functions with the same list share it.
func (m *Module) NewFunction(name string, ret Type, attrs []string, params ...Param) *Function {
	group := strings.Join(attrs, " ")
	gi := slices.Index(m.attrs, group)
	if gi < 0 {
		gi = len(m.attrs)
		m.attrs = append(m.attrs, group)
	}
	f := &Function{name: name, ret: ret, group: gi, used: map[string]int{}}
	for _, p := range params {
		r := &register{t: p.Type, name: "%" + f.fresh(p.Name)}
		f.params = append(f.params, r)
		f.paramAttrs = append(f.paramAttrs, p.Attrs)
	}
	m.funcs = append(m.funcs, f)
	return f
}

// String renders the module. Every block must end in a terminator.
func (m *Module) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target triple = %q\n\n", m.Triple)
	for _, g := range m.globals {
		b.WriteString(g)
		b.WriteString("\n")
	}
	if len(m.globals) > 0 {
		b.WriteString("\n")
	}
	names := make([]string, 0, len(m.decls))
	for n := range m.decls {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(m.decls[n])
		b.WriteString("\n")
	}
	if len(names) > 0 {
		b.WriteString("\n")
	}
	for _, f := range m.funcs {
		f.render(&b)
		b.WriteString("\n")
	}
	for i, a := range m.attrs {
		fmt.Fprintf(&b, "attributes #%d = { %s }\n", i, a)
	}
	return b.String()
}

// Function is a function definition: parameters and basic blocks, the
// first block being the entry.
type Function struct {
	name       string
	ret        Type
	group      int
	params     []*register
	paramAttrs []string
	blocks     []*Block
	used       map[string]int // name hint -> uses, for unique value names
}

// Name is the function's symbol.
func (f *Function) Name() string { return f.name }

// Param is parameter i.
func (f *Function) Param(i int) Value { return f.params[i] }

// fresh returns a value or block name unique in the function, built from
// hint ("acc" -> "acc", "acc.1", ...).
func (f *Function) fresh(hint string) string {
	if hint == "" {
		hint = "v"
	}
	n := f.used[hint]
	f.used[hint] = n + 1
	if n == 0 {
		return hint
	}
	return fmt.Sprintf("%s.%d", hint, n)
}

// NewBlock appends a basic block named after hint.
func (f *Function) NewBlock(hint string) *Block {
	b := &Block{f: f, name: f.fresh(hint)}
	f.blocks = append(f.blocks, b)
	return b
}

func (f *Function) render(b *strings.Builder) {
	ps := make([]string, len(f.params))
	for i, p := range f.params {
		ps[i] = p.t.String()
		if a := f.paramAttrs[i]; a != "" {
			ps[i] += " " + a
		}
		ps[i] += " " + p.name
	}
	fmt.Fprintf(b, "define %v @%s(%s) #%d {\n", f.ret, f.name, strings.Join(ps, ", "), f.group)
	for i, bl := range f.blocks {
		if i > 0 {
			b.WriteString("\n")
		}
		bl.render(b)
	}
	b.WriteString("}\n")
}

// Params are the function's parameters in order.
func (f *Function) Params() []Value {
	ps := make([]Value, len(f.params))
	for i, p := range f.params {
		ps[i] = p
	}
	return ps
}

package ir

import (
	"fmt"
	"math"
	"strconv"
)

// Parse reads the text form of a module (docs/IR.md). Errors are
// InputErrors wrapping a *SyntaxError that names the line and column. A
// module that parses is not necessarily valid: run Verify on it. Parse
// does check what the text form itself promises: names declared once,
// values defined before use, one result type per result, and a return
// matching the function's declared result types.
func Parse(src string) (*Module, error) {
	p := newParser(src)
	m, err := p.module()
	if err != nil {
		return nil, err
	}
	return m, nil
}

// parser is a recursive-descent parser over the lexer's tokens, one token
// of lookahead.
type parser struct {
	lex lexer
	tok token
}

func newParser(src string) *parser {
	p := &parser{lex: lexer{src: src}}
	p.advance()
	return p
}

func (p *parser) advance() { p.tok = p.lex.next() }

// errorf returns a syntax error at byte offset pos.
func (p *parser) errorf(pos int, format string, args ...any) error {
	line, col := 1, 1
	for i := 0; i < pos && i < len(p.lex.src); i++ {
		if p.lex.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return syntaxError(line, col, fmt.Sprintf(format, args...))
}

// unexpected reports the current token where something else was wanted.
func (p *parser) unexpected(want string) error {
	return p.errorf(p.tok.pos, "want %s, found %s", want, p.tok)
}

// is reports whether the current token is the punctuation or keyword s.
func (p *parser) is(s string) bool {
	return (p.tok.kind == tokPunct || p.tok.kind == tokIdent) && p.tok.text == s
}

// expect consumes the punctuation or keyword s.
func (p *parser) expect(s string) error {
	if !p.is(s) {
		return p.unexpected(strconv.Quote(s))
	}
	p.advance()
	return nil
}

// take consumes a token of kind k and returns it.
func (p *parser) take(k tokKind, what string) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.unexpected(what)
	}
	p.advance()
	return t, nil
}

// module := "module" STRING { dim | weight | state | func }
func (p *parser) module() (*Module, error) {
	if err := p.expect("module"); err != nil {
		return nil, err
	}
	name, err := p.take(tokString, "the module name (a quoted string)")
	if err != nil {
		return nil, err
	}
	m := NewModule(name.text)
	for p.tok.kind != tokEOF {
		kw := p.tok
		if kw.kind != tokIdent {
			return nil, p.unexpected(`"dim", "weight", "state" or "func"`)
		}
		p.advance()
		switch kw.text {
		case "dim":
			err = p.dim(m)
		case "weight", "state":
			err = p.decl(m, kw.text)
		case "func":
			err = p.function(m)
		case "plan":
			err = p.plan(m)
		default:
			return nil, p.errorf(kw.pos, `want "dim", "weight", "state" or "func", found %s`, kw)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// dim := "dim" IDENT "=" INT
func (p *parser) dim(m *Module) error {
	name, err := p.take(tokIdent, "a dimension symbol")
	if err != nil {
		return err
	}
	if _, ok := m.DimValue(name.text); ok {
		return p.errorf(name.pos, "dim %s bound twice", name.text)
	}
	if err := p.expect("="); err != nil {
		return err
	}
	v, err := p.size()
	if err != nil {
		return err
	}
	m.Dims = append(m.Dims, DimBinding{Name: name.text, Value: v})
	return nil
}

// size reads a constant dimension: an int in 0..MaxDim.
func (p *parser) size() (int, error) {
	t, err := p.take(tokInt, "a size")
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil || v < 0 || v > MaxDim {
		return 0, p.errorf(t.pos, "size %s out of range 0..%d", t.text, MaxDim)
	}
	return int(v), nil
}

// decl := ("weight" | "state") REF ":" type [ "layout" STRING ]   (layout: weights only)
func (p *parser) decl(m *Module, kind string) error {
	name, err := p.take(tokRef, "an @name")
	if err != nil {
		return err
	}
	if m.Weight(name.text) != nil || m.State(name.text) != nil {
		return p.errorf(name.pos, "@%s declared twice", quoteName(name.text))
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	t, err := p.typ()
	if err != nil {
		return err
	}
	if kind == "weight" {
		w := &Weight{Name: name.text, Type: t}
		if p.is("layout") {
			// weight @w : q4_0[4096,4096] layout "name" (passes/layout.go)
			p.advance()
			l, err := p.take(tokString, "the layout name (a quoted string)")
			if err != nil {
				return err
			}
			if l.text == "" {
				return p.errorf(l.pos, "an empty layout name (leave the layout out for row-major)")
			}
			w.Layout = l.text
		}
		m.Weights = append(m.Weights, w)
	} else {
		m.States = append(m.States, &State{Name: name.text, Type: t})
	}
	return nil
}

// typ := ELEM "[" [ dim { "," dim } ] "]"   where dim := INT | IDENT
func (p *parser) typ() (Type, error) {
	e, err := p.take(tokIdent, "an element type")
	if err != nil {
		return Type{}, err
	}
	elem, ok := ParseElem(e.text)
	if !ok {
		return Type{}, p.errorf(e.pos, "unknown element type %q", e.text)
	}
	if err := p.expect("["); err != nil {
		return Type{}, err
	}
	t := Type{Elem: elem}
	for !p.is("]") {
		if len(t.Shape) > 0 {
			if err := p.expect(","); err != nil {
				return Type{}, err
			}
		}
		switch p.tok.kind {
		case tokInt:
			n, err := p.size()
			if err != nil {
				return Type{}, err
			}
			t.Shape = append(t.Shape, C(n))
		case tokIdent:
			t.Shape = append(t.Shape, S(p.tok.text))
			p.advance()
		default:
			return Type{}, p.unexpected(`a dimension (a size or a symbol) or "]"`)
		}
	}
	p.advance()
	return t, nil
}

// types := type { "," type }
func (p *parser) types() ([]Type, error) {
	var ts []Type
	for {
		t, err := p.typ()
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
		if !p.is(",") {
			return ts, nil
		}
		p.advance()
	}
}

// function := "func" REF "(" [ param { "," param } ] ")" [ "->" types ] "{"
//
//	{ instr } "return" [ VALUE { "," VALUE } ] "}"
//
// param := VALUE ":" type
func (p *parser) function(m *Module) error {
	name, err := p.take(tokRef, "the function's @name")
	if err != nil {
		return err
	}
	if m.Func(name.text) != nil {
		return p.errorf(name.pos, "function @%s declared twice", quoteName(name.text))
	}
	f := &Func{Name: name.text}
	vals := map[string]*Value{}
	if err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		if len(f.Params) > 0 {
			if err := p.expect(","); err != nil {
				return err
			}
		}
		v, err := p.take(tokValue, "a parameter %name")
		if err != nil {
			return err
		}
		if vals[v.text] != nil {
			return p.errorf(v.pos, "%%%s defined twice", quoteName(v.text))
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		t, err := p.typ()
		if err != nil {
			return err
		}
		pv := &Value{Name: v.text, Type: t}
		vals[v.text] = pv
		f.Params = append(f.Params, pv)
	}
	p.advance()
	var sig []Type
	if p.is("->") {
		p.advance()
		if sig, err = p.types(); err != nil {
			return err
		}
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	for p.tok.kind == tokValue {
		in, err := p.instr(m, vals)
		if err != nil {
			return err
		}
		f.Body = append(f.Body, in)
	}
	ret := p.tok
	if err := p.expect("return"); err != nil {
		return p.unexpected(`an instruction ("%name = ...") or "return"`)
	}
	for p.tok.kind == tokValue || len(f.Results) > 0 {
		if len(f.Results) > 0 {
			if !p.is(",") {
				break
			}
			p.advance()
		}
		v, err := p.use(vals)
		if err != nil {
			return err
		}
		f.Results = append(f.Results, v)
	}
	if len(sig) != len(f.Results) {
		return p.errorf(ret.pos, "return gives %d values; the signature says %d", len(f.Results), len(sig))
	}
	for i, r := range f.Results {
		if !r.Type.Equal(sig[i]) {
			return p.errorf(ret.pos, "return value %d %%%s is %s; the signature says %s", i, quoteName(r.Name), r.Type, sig[i])
		}
	}
	if err := p.expect("}"); err != nil {
		return err
	}
	m.Funcs = append(m.Funcs, f)
	return nil
}

// use reads a %name operand that must already be defined.
func (p *parser) use(vals map[string]*Value) (*Value, error) {
	t, err := p.take(tokValue, "a %name")
	if err != nil {
		return nil, err
	}
	v := vals[t.text]
	if v == nil {
		return nil, p.errorf(t.pos, "%%%s is not defined before this use", quoteName(t.text))
	}
	return v, nil
}

// instr := VALUE { "," VALUE } "=" OP [ operand { "," operand } ] [ attrs ] ":" types
//
// operand := VALUE | REF (values first)
func (p *parser) instr(m *Module, vals map[string]*Value) (*Instr, error) {
	in := &Instr{}
	var results []token
	for {
		t, err := p.take(tokValue, "a result %name")
		if err != nil {
			return nil, err
		}
		results = append(results, t)
		if !p.is(",") {
			break
		}
		p.advance()
	}
	if err := p.expect("="); err != nil {
		return nil, err
	}
	opTok, err := p.take(tokIdent, "an op name")
	if err != nil {
		return nil, err
	}
	op, ok := LookupOp(opTok.text)
	if !ok {
		return nil, p.errorf(opTok.pos, "unknown op %q", opTok.text)
	}
	in.Op = op
	for n := 0; p.tok.kind == tokValue || p.tok.kind == tokRef || n > 0 && p.is(","); n++ {
		if n > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		switch p.tok.kind {
		case tokValue:
			if len(in.Refs) > 0 {
				return nil, p.errorf(p.tok.pos, "%%values must come before @operands")
			}
			v, err := p.use(vals)
			if err != nil {
				return nil, err
			}
			in.Args = append(in.Args, v)
		case tokRef:
			in.Refs = append(in.Refs, p.tok.text)
			p.advance()
		default:
			return nil, p.unexpected("an operand (%name or @name)")
		}
	}
	if p.is("{") {
		if in.Attrs, err = p.attrs(op); err != nil {
			return nil, err
		}
	}
	colon := p.tok
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	ts, err := p.types()
	if err != nil {
		return nil, err
	}
	if len(ts) != len(results) {
		return nil, p.errorf(colon.pos, "%d results but %d types", len(results), len(ts))
	}
	for i, r := range results {
		if vals[r.text] != nil {
			return nil, p.errorf(r.pos, "%%%s defined twice", quoteName(r.text))
		}
		v := &Value{Name: r.text, Type: ts[i], Def: in}
		vals[r.text] = v
		in.Results = append(in.Results, v)
	}
	return in, nil
}

// attrs := "{" [ IDENT "=" value { "," IDENT "=" value } ] "}"
//
// value := INT | FLOAT | inf | nan | STRING | "[" [ INT { "," INT } ] "]"
//
// An int written for an attribute the op declares as a float is read as
// that float (so theta=10000 is accepted; it prints as 10000.0).
func (p *parser) attrs(op Op) (Attrs, error) {
	p.advance()
	a := Attrs{}
	for !p.is("}") {
		if len(a) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		key, err := p.take(tokIdent, "an attribute name")
		if err != nil {
			return nil, err
		}
		if a.Has(key.text) {
			return nil, p.errorf(key.pos, "attribute %s given twice", key.text)
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		wantFloat := false
		if spec := op.Info().Attr(key.text); spec != nil && spec.Kind == AttrFloat {
			wantFloat = true
		}
		v, err := p.attrValue(wantFloat)
		if err != nil {
			return nil, err
		}
		a[key.text] = v
	}
	p.advance()
	return a, nil
}

func (p *parser) attrValue(wantFloat bool) (Attr, error) {
	t := p.tok
	switch {
	case t.kind == tokInt && !wantFloat:
		p.advance()
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return Attr{}, p.errorf(t.pos, "int %s out of range", t.text)
		}
		return Attr{Kind: AttrInt, Int: v}, nil
	case t.kind == tokInt || t.kind == tokFloat:
		p.advance()
		if t.text == "-inf" {
			return FloatAttr(float32(math.Inf(-1))), nil
		}
		v, err := strconv.ParseFloat(t.text, 32)
		if err != nil {
			return Attr{}, p.errorf(t.pos, "float %s out of range", t.text)
		}
		return FloatAttr(float32(v)), nil
	case t.kind == tokIdent && t.text == "inf":
		p.advance()
		return FloatAttr(float32(math.Inf(1))), nil
	case t.kind == tokIdent && t.text == "nan":
		p.advance()
		return FloatAttr(float32(math.NaN())), nil
	case t.kind == tokString:
		p.advance()
		return StringAttr(t.text), nil
	case p.is("["):
		p.advance()
		l := []int64{}
		for !p.is("]") {
			if len(l) > 0 {
				if err := p.expect(","); err != nil {
					return Attr{}, err
				}
			}
			it, err := p.take(tokInt, "an int")
			if err != nil {
				return Attr{}, err
			}
			v, err := strconv.ParseInt(it.text, 10, 64)
			if err != nil {
				return Attr{}, p.errorf(it.pos, "int %s out of range", it.text)
			}
			l = append(l, v)
		}
		p.advance()
		return Attr{Kind: AttrInts, Ints: l}, nil
	}
	return Attr{}, p.unexpected("an attribute value")
}

package ir

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// PlanAlign is the alignment, in bytes, of every offset in a memory plan:
// a cache line, and enough for any vector load a backend issues.
const PlanAlign = 64

// MaxPlanBytes bounds an arena and every offset and size in a plan (2^52:
// exact in a float64, far beyond any real arena), so sums of two never
// overflow and a hostile text cannot describe absurd sizes.
const MaxPlanBytes = 1 << 52

// Plan is the memory plan of one function: every value an instruction
// defines gets a byte range in one arena, and two values that are live at
// the same time never share bytes. Function parameters are the caller's
// memory and are not planned; function results are (they live to the end
// of the call). A plan assumes sizes for the function's unbound symbols
// (seq), recorded in Bind; the arena holds any call whose sizes are at most
// those, because every offset was computed for the largest shapes.
//
// A plan is valid for the function exactly as it was when the plan was
// recorded (SetPlan, or parsed): any later edit of the function (an
// instruction added, removed or changed, a value renamed) makes it stale,
// and a stale plan is dropped silently — Plan returns nil, Print leaves it
// out, Verify skips it — so passes that edit functions need not know about
// plans, and a backend that finds no plan plans again. A fresh plan is
// checked in full by Verify.
//
// The text form prints plans after the functions:
//
//	plan @prefill (seq = 512) arena 393216 {
//	  %x at 0 size 131072
//	  %1 at 131072 size 131072
//	}
type Plan struct {
	Func  string       // the function planned
	Bind  []DimBinding // sizes assumed for symbols the module does not bind
	Arena int64        // the arena's size in bytes
	Slots []Slot       // one per value an instruction of Func defines, in body order

	fp uint64 // fingerprint of the function's text when the plan was recorded
}

// Slot is one value's place in the arena: bytes Offset..Offset+Size-1.
type Slot struct {
	Value  *Value
	Offset int64
	Size   int64
}

// fingerprint hashes f's text form (FNV-1a), which changes with any edit
// that could invalidate a plan.
func fingerprint(f *Func) uint64 {
	if f == nil {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(f.String()))
	return h.Sum64()
}

// fresh reports whether p was recorded for m's function as it is now.
func (m *Module) fresh(p *Plan) bool {
	f := m.Func(p.Func)
	return f != nil && p.fp == fingerprint(f)
}

// Plan returns the memory plan of the function named fn, or nil when it
// has none or its plan went stale.
func (m *Module) Plan(fn string) *Plan {
	for _, p := range m.plans {
		if p.Func == fn && m.fresh(p) {
			return p
		}
	}
	return nil
}

// Plans returns the module's fresh plans, in the order they were recorded.
func (m *Module) Plans() []*Plan {
	var ps []*Plan
	for _, p := range m.plans {
		if m.fresh(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// SetPlan records p as the plan of its function as the function is now,
// replacing any earlier plan of it. Call it after the last edit of the
// function; Verify checks the plan.
func (m *Module) SetPlan(p *Plan) {
	p.fp = fingerprint(m.Func(p.Func))
	m.DropPlan(p.Func)
	m.plans = append(m.plans, p)
}

// DropPlan forgets the plan of the function named fn, if any.
func (m *Module) DropPlan(fn string) {
	ps := m.plans[:0]
	for _, p := range m.plans {
		if p.Func != fn {
			ps = append(ps, p)
		}
	}
	clear(m.plans[len(ps):])
	m.plans = ps
}

// Sizes returns the bindings the plan was made for: the module's dims plus
// the plan's own.
func (p *Plan) Sizes(m *Module) Sizes {
	s := m.Sizes()
	for _, b := range p.Bind {
		s[b.Name] = b.Value
	}
	return s
}

// cloneFor copies p for f, a copy of the planned function: slots point at
// f's values of the same names (a name f lacks, possible only in an
// invalid module, gets a detached copy of the value, so the copy never
// points into the original).
func (p *Plan) cloneFor(f *Func) *Plan {
	vals := map[string]*Value{}
	if f != nil {
		for _, r := range f.LiveRanges() {
			vals[r.Value.Name] = r.Value
		}
	}
	c := &Plan{Func: p.Func, Bind: append([]DimBinding(nil), p.Bind...), Arena: p.Arena, fp: p.fp}
	for _, s := range p.Slots {
		if s.Value != nil {
			v := vals[s.Value.Name]
			if v == nil {
				v = &Value{Name: s.Value.Name, Type: s.Value.Type.Clone()}
			}
			s.Value = v
		}
		c.Slots = append(c.Slots, s)
	}
	return c
}

// LiveRange is when a value is live: from the instruction that defines it
// (Def; -1 for a parameter) to the last instruction that reads it (Last),
// both body indices. A function result is live to len(Body), past the last
// instruction; a value nothing reads has Last == Def (it is still written).
type LiveRange struct {
	Value     *Value
	Def, Last int
}

// Overlaps reports whether two values are live at the same time. Ranges
// that only touch overlap too: an instruction's operands and its results
// exist together while it runs, so an output never reuses an input's bytes.
func (r LiveRange) Overlaps(o LiveRange) bool { return r.Def <= o.Last && o.Def <= r.Last }

// LiveRanges returns the live range of every parameter and instruction
// result of f, parameters first, then results in body order.
func (f *Func) LiveRanges() []LiveRange {
	idx := map[*Value]int{}
	var rs []LiveRange
	add := func(v *Value, def int) {
		if v == nil {
			return
		}
		if _, ok := idx[v]; ok {
			return
		}
		idx[v] = len(rs)
		rs = append(rs, LiveRange{Value: v, Def: def, Last: def})
	}
	for _, p := range f.Params {
		add(p, -1)
	}
	for i, in := range f.Body {
		if in == nil {
			continue
		}
		for _, a := range in.Args {
			if j, ok := idx[a]; ok {
				rs[j].Last = max(rs[j].Last, i)
			}
		}
		for _, r := range in.Results {
			add(r, i)
		}
	}
	for _, r := range f.Results {
		if j, ok := idx[r]; ok {
			rs[j].Last = len(f.Body)
		}
	}
	return rs
}

// verifyPlan checks a plan against its function: the function exists, the
// bound symbols are ones the module leaves free, every value an
// instruction defines has exactly one slot and no other value has one,
// each slot's size is its value's bytes under the plan's sizes, offsets
// are aligned and inside the arena, and no two values that are live at the
// same time share a byte.
func verifyPlan(m *Module, p *Plan) error {
	if p == nil {
		return errorf("nil plan")
	}
	fail := func(format string, args ...any) error {
		return errorf("plan @%s: %s", quoteName(p.Func), fmt.Sprintf(format, args...))
	}
	f := m.Func(p.Func)
	if f == nil {
		return fail("no function of that name")
	}
	for i, b := range p.Bind {
		if !isSymbol(b.Name) {
			return fail("%q is not a symbol name", b.Name)
		}
		if _, ok := m.DimValue(b.Name); ok {
			return fail("%s is bound by the module; a plan binds only free symbols", b.Name)
		}
		if b.Value < 1 || b.Value > MaxDim {
			return fail("%s = %d: out of range 1..%d", b.Name, b.Value, MaxDim)
		}
		for _, c := range p.Bind[:i] {
			if c.Name == b.Name {
				return fail("%s bound twice", b.Name)
			}
		}
	}
	if p.Arena < 0 || p.Arena > MaxPlanBytes {
		return fail("arena %d out of range 0..%d", p.Arena, int64(MaxPlanBytes))
	}
	sizes := p.Sizes(m)
	slotOf := map[*Value]int{}
	for i, s := range p.Slots {
		if s.Value == nil {
			return fail("slot %d has no value", i)
		}
		if _, dup := slotOf[s.Value]; dup {
			return fail("%%%s has two slots", quoteName(s.Value.Name))
		}
		slotOf[s.Value] = i
		if s.Offset < 0 || s.Size < 0 || s.Offset%PlanAlign != 0 || s.Offset > p.Arena || s.Size > p.Arena-s.Offset {
			return fail("%%%s at %d size %d: not a %d-aligned range inside the arena of %d bytes", quoteName(s.Value.Name), s.Offset, s.Size, PlanAlign, p.Arena)
		}
	}
	type placed struct {
		r    LiveRange
		slot Slot
	}
	var planned []placed
	for _, r := range f.LiveRanges() {
		if r.Def < 0 {
			if _, ok := slotOf[r.Value]; ok {
				return fail("%%%s is a parameter: the caller owns it, it has no slot", quoteName(r.Value.Name))
			}
			continue
		}
		i, ok := slotOf[r.Value]
		if !ok {
			return fail("%%%s has no slot", quoteName(r.Value.Name))
		}
		delete(slotOf, r.Value)
		n, err := r.Value.Type.Bytes(sizes)
		if err != nil {
			return fail("%%%s : %v", quoteName(r.Value.Name), err)
		}
		if s := p.Slots[i]; s.Size != n {
			return fail("%%%s : %s needs %d bytes, its slot has %d", quoteName(r.Value.Name), r.Value.Type, n, s.Size)
		}
		planned = append(planned, placed{r, p.Slots[i]})
	}
	for _, s := range p.Slots {
		if _, left := slotOf[s.Value]; left {
			return fail("%%%s is not a value the function's instructions define", quoteName(s.Value.Name))
		}
	}
	for i, a := range planned {
		for _, b := range planned[:i] {
			if a.slot.Size == 0 || b.slot.Size == 0 || !a.r.Overlaps(b.r) {
				continue
			}
			if a.slot.Offset < b.slot.Offset+b.slot.Size && b.slot.Offset < a.slot.Offset+a.slot.Size {
				return fail("%%%s (bytes %d..%d, live %d..%d) and %%%s (bytes %d..%d, live %d..%d) are live together but share bytes",
					quoteName(a.r.Value.Name), a.slot.Offset, a.slot.Offset+a.slot.Size-1, a.r.Def, a.r.Last,
					quoteName(b.r.Value.Name), b.slot.Offset, b.slot.Offset+b.slot.Size-1, b.r.Def, b.r.Last)
			}
		}
	}
	return nil
}

// printPlan writes p's text form (see Plan).
func printPlan(b *strings.Builder, p *Plan) {
	b.WriteString("plan ")
	b.WriteString(refName(p.Func))
	if len(p.Bind) > 0 {
		b.WriteString(" (")
		for i, d := range p.Bind {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.Name + " = " + strconv.Itoa(d.Value))
		}
		b.WriteByte(')')
	}
	b.WriteString(" arena " + strconv.FormatInt(p.Arena, 10) + " {\n")
	for _, s := range p.Slots {
		b.WriteString("  " + valueName(s.Value) + " at " + strconv.FormatInt(s.Offset, 10) + " size " + strconv.FormatInt(s.Size, 10) + "\n")
	}
	b.WriteString("}\n")
}

// plan parses a plan (after the keyword):
//
//	plan := "plan" REF [ "(" IDENT "=" INT { "," IDENT "=" INT } ")" ] "arena" INT
//	        "{" { VALUE "at" INT "size" INT } "}"
//
// The function must be declared before it and every %value must be one of
// its values, named once; the rest (sizes, overlaps) is the verifier's.
func (p *parser) plan(m *Module) error {
	name, err := p.take(tokRef, "the planned function's @name")
	if err != nil {
		return err
	}
	f := m.Func(name.text)
	if f == nil {
		return p.errorf(name.pos, "plan for @%s, which is not a function declared before it", quoteName(name.text))
	}
	for _, q := range m.plans {
		if q.Func == name.text {
			return p.errorf(name.pos, "@%s planned twice", quoteName(name.text))
		}
	}
	pl := &Plan{Func: name.text}
	if p.is("(") {
		p.advance()
		for !p.is(")") {
			if len(pl.Bind) > 0 {
				if err := p.expect(","); err != nil {
					return err
				}
			}
			sym, err := p.take(tokIdent, "a dimension symbol")
			if err != nil {
				return err
			}
			for _, b := range pl.Bind {
				if b.Name == sym.text {
					return p.errorf(sym.pos, "%s bound twice", sym.text)
				}
			}
			if err := p.expect("="); err != nil {
				return err
			}
			v, err := p.size()
			if err != nil {
				return err
			}
			pl.Bind = append(pl.Bind, DimBinding{Name: sym.text, Value: v})
		}
		p.advance()
	}
	if err := p.expect("arena"); err != nil {
		return err
	}
	if pl.Arena, err = p.planBytes(); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	vals := map[string]*Value{}
	for _, r := range f.LiveRanges() {
		vals[r.Value.Name] = r.Value
	}
	seen := map[string]bool{}
	for p.tok.kind == tokValue {
		v := p.tok
		if vals[v.text] == nil {
			return p.errorf(v.pos, "%%%s is not a value of @%s", quoteName(v.text), quoteName(f.Name))
		}
		if seen[v.text] {
			return p.errorf(v.pos, "%%%s has two slots", quoteName(v.text))
		}
		seen[v.text] = true
		p.advance()
		s := Slot{Value: vals[v.text]}
		if err := p.expect("at"); err != nil {
			return err
		}
		if s.Offset, err = p.planBytes(); err != nil {
			return err
		}
		if err := p.expect("size"); err != nil {
			return err
		}
		if s.Size, err = p.planBytes(); err != nil {
			return err
		}
		pl.Slots = append(pl.Slots, s)
	}
	if err := p.expect("}"); err != nil {
		return p.unexpected(`a slot ("%name at OFFSET size BYTES") or "}"`)
	}
	m.SetPlan(pl)
	return nil
}

// planBytes reads a byte count or offset: an int in 0..MaxPlanBytes.
func (p *parser) planBytes() (int64, error) {
	t, err := p.take(tokInt, "a byte count")
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil || v < 0 || v > MaxPlanBytes {
		return 0, p.errorf(t.pos, "byte count %s out of range 0..%d", t.text, int64(MaxPlanBytes))
	}
	return v, nil
}

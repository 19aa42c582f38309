package ir

import "strconv"

// Helpers for passes that rewrite a function. Def-use information is
// computed on demand rather than kept up to date, so a pass can edit Body,
// Args and Results freely and ask again.

// Uses returns, for every value used in f, the instructions that use it as
// an operand, in body order (an instruction using a value twice is listed
// twice). Uses by the function's results are not listed: see UseCounts.
func (f *Func) Uses() map[*Value][]*Instr {
	uses := map[*Value][]*Instr{}
	for _, in := range f.Body {
		if in == nil {
			continue
		}
		for _, a := range in.Args {
			if a != nil {
				uses[a] = append(uses[a], in)
			}
		}
	}
	return uses
}

// UseCounts returns how many times each value is used, as an operand or as
// a function result. A value missing from the map is dead.
func (f *Func) UseCounts() map[*Value]int {
	n := map[*Value]int{}
	for _, in := range f.Body {
		if in == nil {
			continue
		}
		for _, a := range in.Args {
			if a != nil {
				n[a]++
			}
		}
	}
	for _, r := range f.Results {
		if r != nil {
			n[r]++
		}
	}
	return n
}

// ReplaceAllUses makes every operand and function result that is old be
// new instead, and returns how many it replaced. It does not check types.
func (f *Func) ReplaceAllUses(old, new *Value) int {
	n := 0
	for _, in := range f.Body {
		if in == nil {
			continue
		}
		for i, a := range in.Args {
			if a == old {
				in.Args[i] = new
				n++
			}
		}
	}
	for i, r := range f.Results {
		if r == old {
			f.Results[i] = new
			n++
		}
	}
	return n
}

// Index returns the position of in in f's body, or -1.
func (f *Func) Index(in *Instr) int {
	for i, b := range f.Body {
		if b == in {
			return i
		}
	}
	return -1
}

// Remove deletes in from f's body and reports whether it was there. Its
// results must have no uses left (the verifier catches any that remain).
func (f *Func) Remove(in *Instr) bool {
	i := f.Index(in)
	if i < 0 {
		return false
	}
	f.Body = append(f.Body[:i], f.Body[i+1:]...)
	return true
}

// InsertBefore puts in just before mark (at the end of the body when mark
// is not in it) and returns its index.
func (f *Func) InsertBefore(mark, in *Instr) int {
	i := f.Index(mark)
	if i < 0 {
		i = len(f.Body)
	}
	f.Body = append(f.Body, nil)
	copy(f.Body[i+1:], f.Body[i:])
	f.Body[i] = in
	return i
}

// InsertAfter puts in just after mark (at the end of the body when mark is
// not in it) and returns its index.
func (f *Func) InsertAfter(mark, in *Instr) int {
	i := f.Index(mark)
	if i < 0 {
		i = len(f.Body) - 1
	}
	i++
	f.Body = append(f.Body, nil)
	copy(f.Body[i+1:], f.Body[i:])
	f.Body[i] = in
	return i
}

// names returns the set of value names f defines.
func (f *Func) names() map[string]bool {
	set := map[string]bool{}
	for _, p := range f.Params {
		if p != nil {
			set[p.Name] = true
		}
	}
	for _, in := range f.Body {
		if in == nil {
			continue
		}
		for _, r := range in.Results {
			if r != nil {
				set[r.Name] = true
			}
		}
	}
	return set
}

// FreshName returns a value name no value of f has: hint itself when it is
// free and a valid name, else hint.1, hint.2, ... (an empty hint gives the
// next free number, like the builder's %0, %1, ...).
func (f *Func) FreshName(hint string) string {
	return freshName(f.names(), hint, 0)
}

// freshName picks a name not in taken (and does not add it). Numbered
// names start the search at from.
func freshName(taken map[string]bool, hint string, from int) string {
	if hint == "" {
		for i := from; ; i++ {
			if s := strconv.Itoa(i); !taken[s] {
				return s
			}
		}
	}
	if !taken[hint] {
		return hint
	}
	for i := 1; ; i++ {
		if s := hint + "." + strconv.Itoa(i); !taken[s] {
			return s
		}
	}
}

// NewInstr makes an instruction of op on args and refs with attrs in f of
// module m, typing its results by the op's rule and naming them fresh
// (from hints when given, one per result). It does not insert the
// instruction into the body: use InsertBefore/InsertAfter.
func (f *Func) NewInstr(m *Module, op Op, args []*Value, refs []string, attrs Attrs, hints ...string) (*Instr, error) {
	in := &Instr{Op: op, Args: args, Refs: refs, Attrs: attrs}
	ts, err := inferTypes(m, in)
	if err != nil {
		return nil, errorf("func @%s: %s: %v", f.Name, op, err)
	}
	taken := f.names()
	for i, t := range ts {
		hint := ""
		if i < len(hints) {
			hint = hints[i]
		}
		name := freshName(taken, hint, 0)
		taken[name] = true
		in.Results = append(in.Results, &Value{Name: name, Type: t, Def: in})
	}
	return in, nil
}

// Renumber renames every instruction result %0, %1, ... in body order
// (parameters keep their names), for a compact, canonical text form.
func (f *Func) Renumber() {
	params := map[string]bool{}
	for _, p := range f.Params {
		if p != nil {
			params[p.Name] = true
		}
	}
	n := 0
	for _, in := range f.Body {
		if in == nil {
			continue
		}
		for _, r := range in.Results {
			if r == nil {
				continue
			}
			name := freshName(params, "", n)
			n, _ = strconv.Atoi(name)
			n++
			r.Name = name
		}
	}
}

// SameComputation reports whether in and o compute the same thing: the same
// op on the same operand values (by identity), the same refs and equal
// attributes (floats by bits). It is what CSE merges; it says nothing
// about side effects (two attentions are never merged: check
// HasSideEffects first).
func (in *Instr) SameComputation(o *Instr) bool {
	if in.Op != o.Op || len(in.Args) != len(o.Args) || len(in.Refs) != len(o.Refs) || !in.Attrs.Equal(o.Attrs) {
		return false
	}
	for i := range in.Args {
		if in.Args[i] != o.Args[i] {
			return false
		}
	}
	for i := range in.Refs {
		if in.Refs[i] != o.Refs[i] {
			return false
		}
	}
	return true
}

package ir

import "fmt"

// Verify checks m against the IR's rules and returns the first problem, or
// nil. It checks:
//   - dim bindings: symbol names, bound once, sizes 1..MaxDim;
//   - weights and states: unique names (one namespace), valid types with
//     every symbol bound, quantized rows of whole blocks;
//   - functions: unique names; every value named, defined once (names
//     unique in the function) and before its use; each instruction's op
//     known, its operand counts, kinds (weight or state), types and shapes
//     and its attributes accepted by the op's rule, and its declared result
//     types equal to the rule's; results defined in the function.
//
// The error names the function, the instruction (its index in the body and
// its text) and why.
func Verify(m *Module) error {
	if m == nil {
		return errorf("nil module")
	}
	for i, d := range m.Dims {
		if !isSymbol(d.Name) {
			return errorf("dim %d: %q is not a symbol name", i, d.Name)
		}
		if d.Value < 1 || d.Value > MaxDim {
			return errorf("dim %s = %d: out of range 1..%d", d.Name, d.Value, MaxDim)
		}
		for _, e := range m.Dims[:i] {
			if e.Name == d.Name {
				return errorf("dim %s bound twice", d.Name)
			}
		}
	}
	declared := map[string]string{}
	check := func(kind, name string, t Type) error {
		if name == "" {
			return errorf("%s with an empty name", kind)
		}
		if prev, dup := declared[name]; dup {
			return errorf("%s @%s: name already declared as a %s", kind, quoteName(name), prev)
		}
		declared[name] = kind
		if why := m.declTypeProblem(t); why != "" {
			return errorf("%s @%s : %s: %s", kind, quoteName(name), t, why)
		}
		return nil
	}
	for i, w := range m.Weights {
		if w == nil {
			return errorf("weight %d is nil", i)
		}
		if err := check("weight", w.Name, w.Type); err != nil {
			return err
		}
	}
	for i, s := range m.States {
		if s == nil {
			return errorf("state %d is nil", i)
		}
		if err := check("state", s.Name, s.Type); err != nil {
			return err
		}
	}
	funcs := map[string]bool{}
	for i, f := range m.Funcs {
		if f == nil {
			return errorf("function %d is nil", i)
		}
		if f.Name == "" {
			return errorf("function %d has an empty name", i)
		}
		if funcs[f.Name] {
			return errorf("function @%s declared twice", quoteName(f.Name))
		}
		funcs[f.Name] = true
		if err := verifyFunc(m, f); err != nil {
			return err
		}
	}
	for _, p := range m.Plans() {
		if err := verifyPlan(m, p); err != nil {
			return err
		}
	}
	return nil
}

// VerifyFunc checks one function of m (see Verify).
func VerifyFunc(m *Module, f *Func) error {
	if f == nil {
		return errorf("nil function")
	}
	return verifyFunc(m, f)
}

func verifyFunc(m *Module, f *Func) error {
	fail := func(format string, args ...any) error {
		return errorf("func @%s: %s", quoteName(f.Name), fmt.Sprintf(format, args...))
	}
	defined := map[*Value]bool{}
	names := map[string]bool{}
	define := func(v *Value) string {
		switch {
		case v == nil:
			return "a nil value"
		case v.Name == "":
			return "a value with an empty name"
		case defined[v]:
			return "%" + quoteName(v.Name) + " defined twice"
		case names[v.Name]:
			return "two values named %" + quoteName(v.Name)
		}
		if why := v.Type.valid(); why != "" {
			return "%" + quoteName(v.Name) + " : " + v.Type.String() + ": " + why
		}
		defined[v] = true
		names[v.Name] = true
		return ""
	}
	for i, p := range f.Params {
		if why := define(p); why != "" {
			return fail("parameter %d: %s", i, why)
		}
		if p.Def != nil {
			return fail("parameter %%%s has a defining instruction", quoteName(p.Name))
		}
	}
	for i, in := range f.Body {
		if in == nil {
			return fail("instr %d is nil", i)
		}
		at := func(format string, args ...any) error {
			return fail("instr %d (%s): %s", i, in, fmt.Sprintf(format, args...))
		}
		for j, a := range in.Args {
			if a == nil {
				return at("operand %d is nil", j)
			}
			if !defined[a] {
				return at("operand %%%s is not defined before this instruction", quoteName(a.Name))
			}
		}
		ts, err := inferTypes(m, in)
		if err != nil {
			return at("%v", err)
		}
		if len(ts) != len(in.Results) {
			return at("%s has %d results, not %d", in.Op, len(ts), len(in.Results))
		}
		for j, r := range in.Results {
			if why := define(r); why != "" {
				return at("result %d: %s", j, why)
			}
			if r.Def != in {
				return at("result %%%s does not point back to its instruction", quoteName(r.Name))
			}
			if !r.Type.Equal(ts[j]) {
				return at("result %%%s is declared %s but %s gives %s", quoteName(r.Name), r.Type, in.Op, ts[j])
			}
		}
	}
	for i, r := range f.Results {
		if r == nil {
			return fail("return value %d is nil", i)
		}
		if !defined[r] {
			return fail("return value %%%s is not defined in the function", quoteName(r.Name))
		}
	}
	return nil
}

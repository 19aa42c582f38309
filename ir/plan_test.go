package ir

import (
	"strings"
	"testing"
)

// planModule is a small function with a plan: %a and %b are live together
// (both read by %c), %c reuses %a's bytes once %a is dead, and %d, a
// result, lives to the end.
const planModule = `module "p"

dim ctx = 8

weight @w : f32[4,4]

func @f(%x: f32[seq,4]) -> f32[seq,4] {
  %a = matmul %x, @w : f32[seq,4]
  %b = silu %a : f32[seq,4]
  %c = add %a, %b : f32[seq,4]
  %d = silu %c : f32[seq,4]
  return %d
}

plan @f (seq = 16) arena 768 {
  %a at 0 size 256
  %b at 256 size 256
  %c at 512 size 256
  %d at 0 size 256
}
`

func TestPlanRoundTrip(t *testing.T) {
	m, err := Parse(planModule)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if got := Print(m); got != planModule {
		t.Fatalf("print differs:\n%s", got)
	}
	if Print(m.Clone()) != planModule {
		t.Fatal("clone prints differently")
	}
	p := m.Plan("f")
	if p == nil || p.Arena != 768 || len(p.Slots) != 4 || p.Bind[0] != (DimBinding{"seq", 16}) {
		t.Fatalf("plan %+v", p)
	}
	c := m.Clone()
	c.Plan("f").Slots[0].Offset = 64
	if m.Plan("f").Slots[0].Offset != 0 {
		t.Fatal("clone shares slots")
	}
	for i, s := range c.Plan("f").Slots {
		if s.Value == p.Slots[i].Value || s.Value.Def == nil || c.Func("f").Index(s.Value.Def) < 0 {
			t.Fatalf("clone's slot %d does not point into the cloned function", i)
		}
	}
	// Any edit of the function, a rename too, makes its plan stale: it is
	// gone from Plan, Plans and the text, and Verify no longer checks it.
	c.Plan("f").Slots[0].Offset = 0
	c.Func("f").Renumber()
	if c.Plan("f") != nil || len(c.Plans()) != 0 || strings.Contains(Print(c), "plan @f") || Verify(c) != nil {
		t.Fatalf("after renumbering the plan is not stale:\n%s", Print(c))
	}
	m.SetPlan(&Plan{Func: "f", Bind: p.Bind, Arena: 1024, Slots: p.Slots})
	if len(m.Plans()) != 1 || m.Plan("f").Arena != 1024 {
		t.Fatal("SetPlan did not replace the plan")
	}
}

func TestLiveRanges(t *testing.T) {
	m, err := Parse(planModule)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Func("f").LiveRanges() {
		got = append(got, r.Value.Name+":"+itoa(r.Def)+".."+itoa(r.Last))
	}
	if s := strings.Join(got, " "); s != "x:-1..0 a:0..2 b:1..2 c:2..3 d:3..4" {
		t.Fatalf("live ranges %s", s)
	}
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	return string(rune('0' + i))
}

// TestPlanVerify breaks the plan one way at a time; the verifier must name
// the problem.
func TestPlanVerify(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"%c at 512", "%c at 256", "%c (bytes 256..511, live 2..3) and %b (bytes 256..511, live 1..2) are live together"},
		{"%d at 0", "%d at 512", "are live together but share bytes"},
		{"%b at 256", "%b at 250", "not a 64-aligned range"},
		{"%d at 0 size 256", "%d at 640 size 256", "inside the arena of 768 bytes"},
		{"%a at 0 size 256", "%a at 0 size 128", "needs 256 bytes, its slot has 128"},
		{"  %d at 0 size 256\n", "", "%d has no slot"},
		{"(seq = 16)", "(seq = 16, ctx = 8)", "ctx is bound by the module"},
		{"(seq = 16) ", "", "dimension symbol seq of f32[seq,4] is not bound"},
	}
	for _, c := range cases {
		src := strings.Replace(planModule, c.from, c.to, 1)
		m, err := Parse(src)
		if err != nil {
			t.Errorf("%q -> %q: parse: %v", c.from, c.to, err)
			continue
		}
		err = Verify(m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q -> %q: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// A plan recorded again after an edit of its function is checked
	// against the new function: a new value has no slot.
	m, _ := Parse(planModule)
	f := m.Func("f")
	in, err := f.NewInstr(m, OpSilu, []*Value{f.Results[0]}, nil, nil, "e")
	if err != nil {
		t.Fatal(err)
	}
	f.Body = append(f.Body, in)
	p := m.plans[0]
	if m.Plan("f") != nil || Verify(m) != nil {
		t.Fatal("the edit did not make the plan stale")
	}
	m.SetPlan(p)
	if err := Verify(m); err == nil || !strings.Contains(err.Error(), "%e has no slot") {
		t.Errorf("re-recorded plan: %v", err)
	}
	m.DropPlan("f")
	if m.Plan("f") != nil || len(m.plans) != 0 {
		t.Error("DropPlan left the plan")
	}
}

func TestPlanParseErrors(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"plan @f", "plan @g", "not a function declared before it"},
		{"  %b at 256", "  %x at 256", ""}, // a parameter parses; the verifier refuses it
		{"  %b at 256", "  %zz at 256", "%zz is not a value of @f"},
		{"  %b at 256", "  %a at 256", "%a has two slots"},
		{"arena 768", "arena -1", "byte count -1 out of range"},
		{"arena 768", "arena 9007199254740993", "out of range"},
		{"arena 768", "768", `want "arena"`},
		{"(seq = 16)", "(seq = 16, seq = 2)", "seq bound twice"},
		{"size 256\n}", "size 256\n", `a slot ("%name at OFFSET size BYTES") or "}"`},
	}
	for _, c := range cases {
		src := strings.Replace(planModule, c.from, c.to, 1)
		_, err := Parse(src)
		if c.want == "" {
			if err != nil {
				t.Errorf("%q -> %q: %v", c.from, c.to, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q -> %q: got %v, want %q", c.from, c.to, err, c.want)
		}
	}
	m, err := Parse(planModule + "\nplan @f arena 0 {\n}\n")
	if err == nil || !strings.Contains(err.Error(), "@f planned twice") {
		t.Errorf("second plan: %v, %v", m, err)
	}
	m, _ = Parse(strings.Replace(planModule, "  %b at 256", "  %x at 256", 1))
	if err := Verify(m); err == nil || !strings.Contains(err.Error(), "%x is a parameter") {
		t.Errorf("parameter slot: %v", err)
	}
}

// TestWeightLayout checks the layout annotation a target's layout pass
// puts on a weight: printed after the type, parsed back, cloned, and
// refused when empty or on a state.
func TestWeightLayout(t *testing.T) {
	src := "module \"l\"\n\nweight @w : f32[4,32] layout \"rows4\"\nweight @n : f32[32]\n"
	m, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if m.Weight("w").Layout != "rows4" || m.Weight("n").Layout != "" {
		t.Fatalf("layouts %q %q", m.Weight("w").Layout, m.Weight("n").Layout)
	}
	if Print(m) != src || Print(m.Clone()) != src {
		t.Fatalf("round trip:\n%s", Print(m))
	}
	for _, bad := range []string{
		"module \"l\"\nweight @w : f32[4] layout \"\"\n",
		"module \"l\"\nweight @w : f32[4] layout rows4\n",
		"module \"l\"\ndim ctx = 2\nstate @s : f32[ctx,4] layout \"rows4\"\n",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

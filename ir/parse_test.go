package ir

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// TestParseHandWritten reads text written by a person (comments, odd
// spacing, an int for a float attribute, quoted names) and checks what it
// becomes and how it prints.
func TestParseHandWritten(t *testing.T) {
	src := `// a hand-written module
module "hand"   // name
dim ctx=8
weight @"weird name" : f32 [ 4 , 8 ]
state @k:f32[ctx,8]
state @v : f32[ctx,8]
func @run(%x:f32[seq,8],%p:i32[]) -> f32[seq,4], f32[seq,8] {
	%"a b"=matmul %x,@"weird name":f32[seq,4]
	%r = rope %x, %p {theta=10000, layout="half_split", heads=1, head_dim=8} : f32[seq,8]
	%o = attention %r, %r, %x, %p, @k, @v {heads=1,kv_heads=1,head_dim=8} : f32[seq,8]
	return %"a b", %o
}
`
	m, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := `module "hand"

dim ctx = 8

weight @"weird name" : f32[4,8]
state @k : f32[ctx,8]
state @v : f32[ctx,8]

func @run(%x: f32[seq,8], %p: i32[]) -> f32[seq,4], f32[seq,8] {
  %"a b" = matmul %x, @"weird name" : f32[seq,4]
  %r = rope %x, %p {head_dim=8, heads=1, layout="half_split", theta=10000.0} : f32[seq,8]
  %o = attention %r, %r, %x, %p, @k, @v {head_dim=8, heads=1, kv_heads=1} : f32[seq,8]
  return %"a b", %o
}
`
	if got := Print(m); got != want {
		t.Fatalf("printed\n%s\nwant\n%s", got, want)
	}
	roundTrip(t, m)
	if th, _ := m.Funcs[0].Body[1].Attrs.Float("theta"); th != 10000 {
		t.Errorf("theta = %v", th)
	}
}

func TestParseErrors(t *testing.T) {
	head := "module \"m\"\nweight @w : f32[4,4]\n"
	for _, c := range []struct {
		src       string
		line, col int
		msg       string
	}{
		{"", 1, 1, `want "module"`},
		{"module m", 1, 8, "the module name"},
		{head + "func @f() {\n  %a = frob : f32[]\n  return\n}\n", 4, 8, `unknown op "frob"`},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %b : f32[4]\n  return\n}\n", 4, 13, "%b is not defined before this use"},
		{head + "func @f(%x: f32[4]) {\n  %x = silu %x : f32[4]\n  return\n}\n", 4, 3, "%x defined twice"},
		{head + "func @f(%x: f32[4], %x: f32[4]) {\n  return\n}\n", 3, 21, "%x defined twice"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x : f32[4]\n}\n", 5, 1, `an instruction ("%name = ...") or "return"`},
		{head + "func @f(%x: f32[4]) -> f32[4] {\n  return\n}\n", 4, 3, "return gives 0 values; the signature says 1"},
		{head + "func @f(%x: f32[4]) -> f32[5] {\n  return %x\n}\n", 4, 3, "the signature says f32[5]"},
		{head + "func @f(%x: f33[4]) {\n  return\n}\n", 3, 13, `unknown element type "f33"`},
		{head + "func @f(%x: f32[99999999999]) {\n  return\n}\n", 3, 17, "size 99999999999 out of range"},
		{head + "func @f(%x: f32[4]) {\n  %a, %b = silu %x : f32[4]\n  return\n}\n", 4, 20, "2 results but 1 types"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu @w, %x : f32[4]\n  return\n}\n", 4, 17, "%values must come before @operands"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x {eps=1, eps=2} : f32[4]\n  return\n}\n", 4, 24, "attribute eps given twice"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x {n=99999999999999999999} : f32[4]\n  return\n}\n", 4, 19, "out of range"},
		{head + "func @f(%x: f32[4]) {\n  %a = const {value=1e99} : f32[]\n  return\n}\n", 4, 21, "float 1e99 out of range"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x {s=\"open} : f32[4]\n  return\n}\n", 4, 19, "unterminated"},
		{head + "func @f(%x: f32[4]) {\n  $\n}\n", 4, 3, "unexpected character '$'"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu % : f32[4]\n  return\n}\n", 4, 13, "a name must follow %"},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x %x : f32[4]\n  return\n}\n", 4, 16, `want ","`},
		{head + "func @f(%x: f32[4]) {\n  %a = silu %x : f32[4x]\n  return\n}\n", 4, 22, "malformed number"},
		{head + "weight @w : f32[4]\n", 3, 8, "@w declared twice"},
		{head + "state @w : f32[4]\n", 3, 7, "@w declared twice"},
		{head + "dim n = 1\ndim n = 2\n", 4, 5, "dim n bound twice"},
		{head + "func @f() {\n  return\n}\nfunc @f() {\n  return\n}\n", 6, 6, "function @f declared twice"},
		{head + "bogus\n", 3, 1, `want "dim", "weight", "state" or "func"`},
	} {
		_, err := Parse(c.src)
		if err == nil {
			t.Errorf("%q parsed", c.src)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || omexerr.CategoryOf(err) != omexerr.Input {
			t.Errorf("%q: error %v is not an InputError with a SyntaxError", c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q:\n  got  %d:%d: %s\n  want %d:%d: ...%s...", c.src, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
}

// TestFloatAttrsRoundTrip prints float attributes and parses them back:
// every float32 (random bit patterns, and the awkward ones) keeps its bits.
func TestFloatAttrsRoundTrip(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 10000, 1e-5, 1e-6, 0.1, 3.4028235e38, -3.4028235e38,
		math.SmallestNonzeroFloat32, 1.1754944e-38, 16777216, 16777217, 1e6, 1e7, 123456789,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	r := rand.New(rand.NewSource(1))
	for len(vals) < 5000 {
		f := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(f)) {
			vals = append(vals, f)
		}
	}
	m := NewModule("floats")
	f, _ := m.AddFunc("f")
	b := NewBuilder(m, f)
	for _, v := range vals {
		b.Const(v)
	}
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	m2, err := Parse(Print(m))
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range m2.Funcs[0].Body {
		got, _ := in.Attrs.Float("value")
		if math.Float32bits(got) != math.Float32bits(vals[i]) {
			t.Fatalf("%v (bits %#x) came back as %v (bits %#x) from %s", vals[i], math.Float32bits(vals[i]), got, math.Float32bits(got), in)
		}
	}
	// NaN keeps being NaN (its payload is not kept).
	nan := Attrs{"value": FloatAttr(float32(math.NaN()))}
	if s := nan.String(); s != "{value=nan}" {
		t.Errorf("NaN prints as %s", s)
	}
	roundTrip(t, m)
}

func TestParseType(t *testing.T) {
	for _, s := range []string{"f32[seq,288]", "i32[]", "q4_0[32000,4096]", "bool[a,b,1]"} {
		ty, err := ParseType(s)
		if err != nil || ty.String() != s {
			t.Errorf("ParseType(%q) = %v, %v", s, ty, err)
		}
	}
	for _, s := range []string{"f32", "f32[", "f32[1,]", "x[1]", "f32[1] junk", "f32[-1]"} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) succeeded", s)
		}
	}
	a, _ := ParseType("f32[seq,64]")
	if !a.Equal(T(F32, S("seq"), C(64))) || a.Equal(T(F32, C(1), C(64))) || a.Equal(T(F16, S("seq"), C(64))) {
		t.Error("Type.Equal")
	}
}

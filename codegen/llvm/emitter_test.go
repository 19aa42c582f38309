package llvm

import (
	"os/exec"
	"strings"
	"testing"
)

func TestTypes(t *testing.T) {
	cases := []struct {
		t     Type
		s     string
		bytes int
	}{
		{Void, "void", 0}, {I1, "i1", 1}, {I8, "i8", 1}, {I64, "i64", 8}, {Half, "half", 2},
		{Float, "float", 4}, {Double, "double", 8}, {Ptr, "ptr", 8},
		{Vector(8, Float), "<8 x float>", 32}, {Vector(16, I8), "<16 x i8>", 16}, {Vector(4, Half), "<4 x half>", 8},
	}
	for _, c := range cases {
		if c.t.String() != c.s || c.t.Bytes() != c.bytes {
			t.Errorf("%v: String %q Bytes %d, want %q %d", c.t, c.t.String(), c.t.Bytes(), c.s, c.bytes)
		}
	}
	if v := Vector(8, Float); v.Scalar() != Float || v.Lanes() != 8 || !v.IsFloat() || v.IsInt() {
		t.Errorf("vector accessors wrong for %v", v)
	}
	mustPanic(t, "vector of vectors", func() { Vector(2, Vector(4, Float)) })
	mustPanic(t, "vector of ptr", func() { Vector(2, Ptr) })
}

func TestConstants(t *testing.T) {
	if got := ConstInt(Vector(2, I32), 7).String(); got != "<i32 7, i32 7>" {
		t.Errorf("vector int constant %q", got)
	}
	// Float literals are the hex bits of the equal double: exact.
	if got := ConstFloat(Float, 1).String(); got != "0x3FF0000000000000" {
		t.Errorf("1.0f is %q", got)
	}
	if got := ConstFloat(Float, float64(float32(0.1))).String(); got != "0x3FB99999A0000000" {
		t.Errorf("0.1f is %q", got)
	}
	mustPanic(t, "inexact float literal", func() { ConstFloat(Float, 0.1) })
	mustPanic(t, "int constant of float type", func() { ConstInt(Float, 1) })
	if Zero(Vector(4, Float)).String() != "zeroinitializer" || Zero(Float).String() != "0.0" || Zero(Ptr).String() != "null" {
		t.Error("zero values wrong")
	}
}

// smallModule is a loop summing n floats, the emitter's features in
// miniature.
func smallModule() *Module {
	m := NewModule("x86_64-unknown-linux-gnu")
	m.GlobalBytes("tab", []byte{1, 0xff}, 16)
	m.Declare("llvm.sqrt.f64", Double, Double)
	f := m.NewFunction("sum", Float, []string{"nounwind"}, Param{"p", Ptr, "nocapture readonly"}, Param{"n", I64, ""})
	entry := f.NewBlock("entry")
	lp := CountedLoop(entry, "loop", ConstInt(I64, 0), f.Param(1), 1, []Value{Zero(Float)}, func(b *Block, i Value, c []Value) (*Block, []Value) {
		v := b.Load(Float, b.GEP(Float, f.Param(0), i, "ptr"), 4, "v")
		return b, []Value{b.FAdd(c[0], v, "acc")}
	})
	lp.Exit.Ret(lp.Results[0])
	return m
}

const smallModuleText = `target triple = "x86_64-unknown-linux-gnu"

@tab = constant [2 x i8] c"\01\FF", align 16

declare double @llvm.sqrt.f64(double)

define float @sum(ptr nocapture readonly %p, i64 %n) #0 {
entry:
  %loop.any = icmp slt i64 0, %n
  br i1 %loop.any, label %loop, label %loop.end

loop:
  %loop.i = phi i64 [ 0, %entry ], [ %loop.next, %loop ]
  %loop.c = phi float [ 0.0, %entry ], [ %acc, %loop ]
  %ptr = getelementptr inbounds float, ptr %p, i64 %loop.i
  %v = load float, ptr %ptr, align 4
  %acc = fadd float %loop.c, %v
  %loop.next = add i64 %loop.i, 1
  %loop.more = icmp slt i64 %loop.next, %n
  br i1 %loop.more, label %loop, label %loop.end

loop.end:
  %loop.endi = phi i64 [ 0, %entry ], [ %loop.next, %loop ]
  %loop.r = phi float [ 0.0, %entry ], [ %acc, %loop ]
  ret float %loop.r
}

attributes #0 = { nounwind }
`

func TestModuleText(t *testing.T) {
	if got := smallModule().String(); got != smallModuleText {
		t.Errorf("module text:\n%s\nwant:\n%s", got, smallModuleText)
	}
	if l, err := FindLLC(); err == nil {
		args := []string{"-O2", "-filetype=obj", "-o", "/dev/null", "-"}
		if l.Major < 15 {
			args = append([]string{"-opaque-pointers"}, args...)
		}
		cmd := exec.Command(l.Path, args...)
		cmd.Stdin = strings.NewReader(smallModuleText)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("llc rejects the small module: %v\n%s", err, out)
		}
	}
}

// TestCountedLoopKnownTrip: constant bounds that run at least once need
// no guard, so the loop costs one branch per iteration.
func TestCountedLoopKnownTrip(t *testing.T) {
	m := NewModule("x86_64-unknown-linux-gnu")
	f := m.NewFunction("f", Void, nil)
	entry := f.NewBlock("entry")
	lp := CountedLoop(entry, "k", ConstInt(I64, 0), ConstInt(I64, 8), 4, nil, func(b *Block, i Value, c []Value) (*Block, []Value) { return b, nil })
	lp.Exit.Ret(nil)
	text := m.String()
	if strings.Contains(text, "k.any") || !strings.Contains(text, "entry:\n  br label %k\n") {
		t.Errorf("known-trip loop has a guard:\n%s", text)
	}
	if lp.End.String() != "%k.next" {
		t.Errorf("End is %s", lp.End)
	}
}

func TestBuilderMisuse(t *testing.T) {
	newBlock := func() *Block {
		return NewModule("x").NewFunction("f", Void, nil, Param{"a", Float, ""}, Param{"b", I32, ""}).NewBlock("entry")
	}
	mustPanic(t, "mismatched operands", func() {
		b := newBlock()
		b.FAdd(b.Func().Param(0), b.Func().Param(1), "x")
	})
	mustPanic(t, "instruction after terminator", func() {
		b := newBlock()
		b.Ret(nil)
		b.FAdd(b.Func().Param(0), b.Func().Param(0), "x")
	})
	mustPanic(t, "two terminators", func() {
		b := newBlock()
		b.Ret(nil)
		b.Ret(nil)
	})
	mustPanic(t, "unterminated block", func() {
		m := NewModule("x")
		m.NewFunction("f", Void, nil).NewBlock("entry")
		_ = m.String()
	})
	mustPanic(t, "phi without incoming", func() {
		m := NewModule("x")
		b := m.NewFunction("f", Void, nil).NewBlock("entry")
		b.Phi(I64, "p")
		b.Ret(nil)
		_ = m.String()
	})
	mustPanic(t, "phi of the wrong type", func() {
		b := newBlock()
		b.Phi(I64, "p").AddIncoming(b.Func().Param(0), b)
	})
	mustPanic(t, "cast changing lanes", func() {
		b := newBlock()
		b.Cast("bitcast", b.Func().Param(1), Vector(4, I8), "x")
	})
}

func TestFreshNames(t *testing.T) {
	f := NewModule("x").NewFunction("f", Void, nil, Param{"v", I64, ""})
	b := f.NewBlock("v") // blocks and values share a namespace
	x := b.Add(f.Param(0), f.Param(0), "v")
	if f.Param(0).String() != "%v" || b.Name() != "v.1" || x.String() != "%v.2" {
		t.Errorf("names %s %s %s", f.Param(0), b.Name(), x)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

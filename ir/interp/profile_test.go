package interp_test

import (
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
)

// TestProfileCountsEveryInstruction: with profiling on, each call adds one
// count per instruction to its op kind.
func TestProfileCountsEveryInstruction(t *testing.T) {
	m, err := ir.Parse(`module "p"

func @f(%x: f32[2]) -> f32[2] {
  %a = silu %x : f32[2]
  %b = mul %a, %x : f32[2]
  %c = silu %b : f32[2]
  return %c
}
`)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := interp.New(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ip.Profile() != nil {
		t.Fatal("profile reported while off")
	}
	ip.EnableProfile()
	for range 3 {
		if _, err := ip.Call("f", interp.F32Value([]float32{1, 2}, 2)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, p := range ip.Profile() {
		got[p.Op] = p.Calls
	}
	if got["silu"] != 6 || got["mul"] != 3 || len(got) != 2 {
		t.Fatalf("profile counts %v, want silu 6, mul 3", got)
	}
}

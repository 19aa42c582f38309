package interp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/ir"
)

// fusedWeights are the weights every fused case reads: a 64-wide input,
// q/k/v of 8 and 4 heads of 8, a 96-wide gate/up, in several dtypes.
func fusedWeights() store {
	r := rand.New(rand.NewPCG(8, 8))
	ws := store{}
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := randVals(r, n, 0.2)
		switch name {
		case "wq", "wu":
			ws[name] = q8Tensor(name, v, shape...)
		case "wv":
			ws[name] = bf16Tensor(name, v, shape...)
		default:
			ws[name] = f32Tensor(name, v, shape...)
		}
	}
	add("norm", 64)
	add("wq", 64, 64)
	add("wk", 32, 64)
	add("wv", 32, 64)
	add("bq", 64)
	add("bk", 32)
	add("bv", 32)
	add("wg", 96, 64)
	add("wu", 96, 64)
	add("bg", 96)
	add("bu", 96)
	return ws
}

// fusedCase is a fused instruction and the unfused sequence it replaces.
type fusedCase struct {
	name           string
	fused, unfused func(b *ir.Builder, x, pos, resid *ir.Value) []*ir.Value
}

func fusedCases() []fusedCase {
	var cases []fusedCase
	opt := func(on bool, s ...string) []string {
		if on {
			return s
		}
		return nil
	}
	for _, norm := range []bool{false, true} {
		for _, bias := range []bool{false, true} {
			// h is the matmuls' input: rmsnorm(x) with the prologue, else x.
			h := func(b *ir.Builder, x *ir.Value) *ir.Value {
				if norm {
					return b.RMSNorm(x, "norm", 1e-5)
				}
				return x
			}
			normName := ""
			if norm {
				normName = "norm"
			}
			tag := fmt.Sprintf("norm=%v,bias=%v", norm, bias)
			if norm {
				cases = append(cases, fusedCase{"rmsnorm_matmul/" + tag,
					func(b *ir.Builder, x, _, _ *ir.Value) []*ir.Value {
						return []*ir.Value{b.RMSNormMatMul(x, "norm", 1e-5, "wk", opt(bias, "bk")...)}
					},
					func(b *ir.Builder, x, _, _ *ir.Value) []*ir.Value {
						return []*ir.Value{b.MatMul(h(b, x), "wk", opt(bias, "bk")...)}
					}})
			} else {
				cases = append(cases, fusedCase{"matmul_add/" + tag,
					func(b *ir.Builder, x, _, resid *ir.Value) []*ir.Value {
						return []*ir.Value{b.MatMulAdd(x, resid, "wk", opt(bias, "bk")...)}
					},
					func(b *ir.Builder, x, _, resid *ir.Value) []*ir.Value {
						return []*ir.Value{b.Add(resid, b.MatMul(x, "wk", opt(bias, "bk")...))}
					}})
			}
			for _, layout := range []string{ir.RopeInterleaved, ir.RopeHalfSplit} {
				for _, rope := range []bool{false, true} {
					if !rope && layout == ir.RopeHalfSplit {
						continue
					}
					spec := ir.Rope{Heads: 8, HeadDim: 8, Theta: 10000, Layout: layout}
					kspec := spec
					kspec.Heads = 4
					cases = append(cases, fusedCase{fmt.Sprintf("matmul_qkv/%s,rope=%v,%s", tag, rope, layout),
						func(b *ir.Builder, x, pos, _ *ir.Value) []*ir.Value {
							p := ir.QKV{Norm: normName, Eps: 1e-5, WQ: "wq", WK: "wk", WV: "wv"}
							if bias {
								p.BQ, p.BK, p.BV = "bq", "bk", "bv"
							}
							if rope {
								p.Pos, p.Rope, p.KVHeads = pos, spec, 4
							}
							q, k, v := b.MatMulQKV(x, p)
							return []*ir.Value{q, k, v}
						},
						func(b *ir.Builder, x, pos, _ *ir.Value) []*ir.Value {
							hx := h(b, x)
							q := b.MatMul(hx, "wq", opt(bias, "bq")...)
							k := b.MatMul(hx, "wk", opt(bias, "bk")...)
							v := b.MatMul(hx, "wv", opt(bias, "bv")...)
							if rope {
								q, k = b.Rope(q, pos, spec), b.Rope(k, pos, kspec)
							}
							return []*ir.Value{q, k, v}
						}})
				}
				spec := ir.Rope{Heads: 4, HeadDim: 8, Theta: 500000, Layout: layout}
				cases = append(cases, fusedCase{fmt.Sprintf("matmul_rope/%s,%s", tag, layout),
					func(b *ir.Builder, x, pos, _ *ir.Value) []*ir.Value {
						return []*ir.Value{b.MatMulRope(x, pos, normName, 1e-5, "wk", spec, opt(bias, "bk")...)}
					},
					func(b *ir.Builder, x, pos, _ *ir.Value) []*ir.Value {
						return []*ir.Value{b.Rope(b.MatMul(h(b, x), "wk", opt(bias, "bk")...), pos, spec)}
					}})
			}
			cases = append(cases, fusedCase{"matmul_gate_up/" + tag,
				func(b *ir.Builder, x, _, _ *ir.Value) []*ir.Value {
					return []*ir.Value{b.MatMulGateUp(x, normName, 1e-5, "wg", "wu", opt(bias, "bg", "bu")...)}
				},
				func(b *ir.Builder, x, _, _ *ir.Value) []*ir.Value {
					hx := h(b, x)
					g := b.MatMul(hx, "wg", opt(bias, "bg")...)
					u := b.MatMul(hx, "wu", opt(bias, "bu")...)
					return []*ir.Value{b.Mul(b.Silu(g), u)}
				}})
		}
	}
	return cases
}

// TestFusedMatchesExpansion runs every form of every fused op (with and
// without the rmsnorm prologue, biases and the rope epilogue, both rope
// layouts) and the unfused sequence docs/IR.md gives as its expansion, on
// the same weights and inputs: the results must be bit-identical.
func TestFusedMatchesExpansion(t *testing.T) {
	ws := fusedWeights()
	r := rand.New(rand.NewPCG(9, 9))
	const rows = 5
	ps := []param{seqParam(r, rows, 64), posParam(6), seqParam(r, rows, 32)}
	seen := map[ir.Op]bool{}
	for _, c := range fusedCases() {
		t.Run(c.name, func(t *testing.T) {
			fused := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return c.fused(b, p[0], p[1], p[2]) })
			unfused := oneFunc(t, ws, nil, ps, func(b *ir.Builder, p []*ir.Value) []*ir.Value { return c.unfused(b, p[0], p[1], p[2]) })
			f := fused.Funcs[0]
			if len(f.Body) != 1 || !f.Body[0].Op.Info().Fused {
				t.Fatalf("the fused form is not one fused instruction:\n%s", f)
			}
			seen[f.Body[0].Op] = true
			got, want := run(t, fused, ws, ps), run(t, unfused, ws, ps)
			for i := range want {
				wantBits(t, fmt.Sprintf("result %d", i), got[i].F32, want[i].F32)
			}
		})
	}
	for _, op := range ir.Ops() {
		if op.Info().Fused && !seen[op] {
			t.Errorf("fused op %s has no case", op)
		}
	}
}

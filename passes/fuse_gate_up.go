package passes

import "github.com/omex-dev/omex/ir"

// fuseGateUp merges a gated feed-forward's gate and up projections and its
// SiLU·mul into one matmul_gate_up: the two products share their input, and
// the hidden activation is finished in the epilogue instead of passing
// through memory three times.
//
// The pattern is mul(silu(G), U) (either operand order) where G and U are
// matmuls or rmsnorm_matmuls of the same input through the same prologue,
// both with a bias or neither, and G, silu(G) and U have no other use.
// It becomes
//
//	%h = matmul_gate_up %x, [@norm,] @wg, @wu [, @bg, @bu] [{eps}]
//
// defined as silu(x·wg) * (x·wu) (docs/IR.md). The float32 multiply is
// commutative bit for bit, so mul(U, silu(G)) is the same expansion.
func fuseGateUp(m *ir.Module, c *Context) error {
	groups, removed := 0, 0
	for _, f := range m.Funcs {
		for i := 0; i < len(f.Body); i++ {
			in := f.Body[i]
			if in.Op != ir.OpMul || len(in.Args) != 2 {
				continue
			}
			for _, pair := range [2][2]*ir.Value{{in.Args[0], in.Args[1]}, {in.Args[1], in.Args[0]}} {
				act, upv := pair[0], pair[1]
				if act.Def == nil || act.Def.Op != ir.OpSilu {
					continue
				}
				silu := act.Def
				g, okg := linearOf(silu.Args[0])
				u, oku := linearOf(upv)
				if !okg || !oku || g.in == u.in {
					continue
				}
				if !g.sameInput(u) || !sameBiasing(g, u) {
					c.Logf("@%s: gate and up of %s read different inputs or differ in bias", f.Name, in.Results[0])
					continue
				}
				refs, attrs := g.prologue()
				refs = append(refs, g.w, u.w)
				if g.bias != "" {
					refs = append(refs, g.bias, u.bias)
				}
				out := in.Results[0]
				ok, why := fuseGroup(m, f, ir.OpMatMulGateUp, []*ir.Value{g.x}, refs, attrs, []*ir.Value{out}, []*ir.Instr{g.in, silu, u.in, in})
				if !ok {
					c.Logf("@%s: %s not fused: %s", f.Name, out, why)
					continue
				}
				groups++
				removed += 3
				i = f.Index(out.Def)
				break
			}
		}
	}
	reportFused(c, groups, removed, "gate/up projections with SiLU·mul -> matmul_gate_up")
	return nil
}

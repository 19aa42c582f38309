package interp

import (
	"fmt"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
)

// compileAttention prepares an attention instruction: write the rows of k
// and v into the caches at positions pos.., then for each query row i run
// kernels.Attention over positions 0..pos+i, exactly as runtime/model does
// for one token at position pos+i.
func (ip *Interp) compileAttention(o *operands, out *slot) (func() error, error) {
	kc, vc := ip.states[o.refs["kcache"]], ip.states[o.refs["vcache"]]
	if kc == nil || vc == nil {
		return nil, fmt.Errorf("attention state @%s or @%s is not allocated", o.refs["kcache"], o.refs["vcache"])
	}
	heads, _ := o.in.Attrs.Int("heads")
	kvHeads, _ := o.in.Attrs.Int("kv_heads")
	hd, _ := o.in.Attrs.Int("head_dim")
	q, k, v, posv := o.args["q"], o.args["k"], o.args["v"], o.args["pos"]
	kvDim, qDim := kvHeads*hd, heads*hd
	return func() error {
		pos, rows := int(posv.i[0]), q.shape[0]
		if pos < 0 || pos+rows > kc.rows {
			return omexerr.Executionf("execution.context_full", "positions %d..%d are outside the context window (0..%d)", pos, pos+rows-1, kc.rows-1)
		}
		if pos > kc.filled {
			return omexerr.Executionf("execution.position_gap", "position %d skips ahead of the cached context (%d positions)", pos, kc.filled)
		}
		copy(kc.data[pos*kvDim:(pos+rows)*kvDim], k.f)
		copy(vc.data[pos*kvDim:(pos+rows)*kvDim], v.f)
		// Positions after the written rows are stale from an earlier,
		// longer context: forget them, as runtime/model does on a rewind.
		kc.filled, vc.filled = pos+rows, pos+rows
		out.alloc()
		for i := 0; i < rows; i++ {
			kernels.Attention(out.f[i*qDim:(i+1)*qDim], q.f[i*qDim:(i+1)*qDim], kc.data, vc.data, heads, kvHeads, hd, pos+i+1, ip.scores)
		}
		return nil
	}, nil
}

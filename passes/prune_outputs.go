package passes

import (
	"fmt"

	"github.com/omex-dev/omex/ir"
)

// PrunedFunc is the function output pruning rewrites: a prompt's prefill,
// whose caller samples the next token from the last row's logits only.
const PrunedFunc = "prefill"

// pruneOutputs makes prefill compute its logits for the last prompt
// position only: its result becomes f32[1,vocab]. The prompt's other logits
// are never used (generation samples from the last row; the other rows'
// keys and values reach the KV cache inside attention, which is untouched).
//
// prefill must return one value (the logits); a prefill with several
// results is left alone. From the returned value it walks back through the row-wise ops that
// produce it — ops whose row i depends on row i of their one value operand
// alone: the classifier matmul, the final rmsnorm (or both fused as
// rmsnorm_matmul), elementwise activations — as long as each intermediate
// feeds only the next, and puts `slice {axis=0, start=-1}` in front of the
// first of them. Those ops then run on one row. Every output row of these
// ops is computed from its input row by the same float32 operations in the
// same order whatever the number of rows (docs/IR.md), so the last row's
// logits are bit-identical to before. A slice of the last row already at
// the end (`%logits = slice %x {axis=0, start=-1}`) is moved up the same
// way.
//
// The report gives the work saved per prompt token (every token but the
// last no longer runs the pruned ops) and at a prompt of ctx tokens (or
// PlanSeq).
func pruneOutputs(m *ir.Module, c *Context) error {
	f := m.Func(PrunedFunc)
	if f == nil || len(f.Results) != 1 || f.Results[0] == nil {
		return nil
	}
	res := f.Results[0]
	uses := f.UseCounts()

	// end is the value whose last row the function should return; tail
	// is a trailing last-row slice to remove.
	end, tail := res, (*ir.Instr)(nil)
	if in := res.Def; in != nil && isLastRowSlice(in) {
		end, tail = in.Args[0], in
	}
	if !symbolicRows(end.Type) {
		return nil // already one row (or a shape this pass does not know)
	}
	// The chain of row-wise instructions that produce end, first to last.
	// Each result must be read only by the next one (the last: only by the
	// function's result or the trailing slice), because its type changes.
	var chain []*ir.Instr
	for v := end; v.Def != nil && rowWise(v.Def) && uses[v] == 1 && symbolicRows(v.Def.Args[0].Type); v = v.Def.Args[0] {
		chain = append([]*ir.Instr{v.Def}, chain...)
	}
	if len(chain) == 0 && (tail != nil || end.Def == nil) {
		return nil // the slice already sits right after what it slices, or a parameter is returned
	}

	// Insert the slice in front of the chain (or after end when the chain
	// is empty) and retype the chain's results to one row.
	first := end
	if len(chain) > 0 {
		first = chain[0].Args[0]
	}
	slice, err := f.NewInstr(m, ir.OpSlice, []*ir.Value{first}, nil, ir.Attrs{"axis": ir.IntAttr(0), "start": ir.IntAttr(-1)}, "last")
	if err != nil {
		return err
	}
	if len(chain) > 0 {
		f.InsertBefore(chain[0], slice)
	} else {
		f.InsertAfter(end.Def, slice)
	}
	before := pruneCost(m, chain)
	prev := slice.Results[0]
	for _, in := range chain {
		in.Args[0] = prev
		typed, err := f.NewInstr(m, in.Op, in.Args, in.Refs, in.Attrs)
		if err != nil {
			return fmt.Errorf("retyping %s for one row: %w", in, err)
		}
		in.Results[0].Type = typed.Results[0].Type
		prev = in.Results[0]
	}
	if tail != nil {
		// The chain now ends in the one-row value the trailing slice made:
		// return it under the slice's name.
		name := tail.Results[0].Name
		f.ReplaceAllUses(tail.Results[0], prev)
		f.Remove(tail)
		prev.Name = name
	} else if len(chain) == 0 {
		f.Results[0] = prev // only the result: other readers of end keep every row
	}

	// What it saves: every prompt row but the last skips the chain.
	seq := PlanSeq
	if n, ok := m.DimValue("ctx"); ok {
		seq = n
	}
	if len(chain) == 0 {
		c.Report("flops_saved_per_token", 0, "flops", "@%s returns its last row only; %s, which computes it, is not row-wise, so no work is saved", f.Name, end.Def.Op)
		return nil
	}
	total := projectionFlopsPerRow(m, f)
	share := 0.0
	if total > 0 {
		share = 100 * before.matFlops / total
	}
	c.Report("flops_saved_per_token", before.flops, "flops",
		"@%s computes the last row only: %s FLOPs saved per prompt token (the pruned weight matrices were %.1f%% of a prompt row's matrix FLOPs)",
		f.Name, count(before.flops), share)
	c.Report("bytes_saved_per_token", before.bytes, "bytes",
		"%s of activations per prompt token no longer written (the logits row and what feeds only it)", byteSize(int64(before.bytes)))
	saved := float64(seq-1) * before.flops
	c.Report("flops_saved", saved, "flops", "at a %d-token prompt: %s FLOPs and %s of activations saved", seq, count(saved), byteSize(int64(float64(seq-1)*before.bytes)))
	return nil
}

// isLastRowSlice reports whether in is `slice %x {axis=0, start=-1}`.
func isLastRowSlice(in *ir.Instr) bool {
	if in.Op != ir.OpSlice || len(in.Args) != 1 || in.Attrs.Has("end") {
		return false
	}
	axis, ok1 := in.Attrs.Int("axis")
	start, ok2 := in.Attrs.Int("start")
	return ok1 && ok2 && axis == 0 && start == -1
}

// symbolicRows reports whether t is an f32 matrix with a symbolic number
// of rows (seq).
func symbolicRows(t ir.Type) bool {
	return t.Elem == ir.F32 && t.Rank() >= 2 && !t.Shape[0].IsConst()
}

// rowWise reports whether row i of in's one result depends only on row i
// of its one value operand, computed by the same operations whatever the
// number of rows. Ops with more value operands (add, attention) and ops
// whose row depends on its index (rope: position pos+i) are not.
func rowWise(in *ir.Instr) bool {
	if len(in.Args) != 1 || len(in.Results) != 1 {
		return false
	}
	switch in.Op {
	case ir.OpMatMul, ir.OpRMSNorm, ir.OpRMSNormMatMul, ir.OpMatMulGateUp, ir.OpSilu, ir.OpGelu:
		return true
	case ir.OpSoftmax:
		return in.Args[0].Type.Rank() >= 2 // over the last axis, not the rows
	}
	return false
}

// rowCost is the work one row of some instructions costs: all FLOPs, those
// of weight matrices alone, and the bytes of the rows written.
type rowCost struct{ flops, matFlops, bytes float64 }

// pruneCost is the work of one row of the chain: FLOPs (a multiply-add is
// two; rmsnorm 4 per element; silu 4, gelu 8, softmax 4 per element) and
// the bytes of the rows it writes.
func pruneCost(m *ir.Module, chain []*ir.Instr) rowCost {
	var c rowCost
	sizes := m.Sizes()
	for _, in := range chain {
		out := rowWidth(in.Results[0].Type, sizes)
		inW := rowWidth(in.Args[0].Type, sizes)
		c.bytes += 4 * out
		c.matFlops += matFlopsPerRow(m, in)
		c.flops += matFlopsPerRow(m, in)
		switch in.Op {
		case ir.OpRMSNorm:
			c.flops += 4 * inW
		case ir.OpRMSNormMatMul:
			c.flops += 4 * inW
		case ir.OpMatMulGateUp:
			if in.Attrs.Has("eps") {
				c.flops += 4 * inW
			}
			c.flops += 5 * out
		case ir.OpSilu, ir.OpSoftmax:
			c.flops += 4 * out
		case ir.OpGelu:
			c.flops += 8 * out
		}
	}
	return c
}

// rowWidth is the number of elements in one row (all axes but the first);
// 0 when one of them has no known size.
func rowWidth(t ir.Type, sizes ir.Sizes) float64 {
	if t.Rank() == 0 {
		return 0
	}
	row, err := ir.T(t.Elem, t.Shape[1:]...).Elements(sizes)
	if err != nil {
		return 0
	}
	return float64(row)
}

// matFlopsPerRow is 2·N·K for every weight matrix [N,K] the instruction
// multiplies a row by, plus N per bias.
func matFlopsPerRow(m *ir.Module, in *ir.Instr) float64 {
	_, refs, err := in.Roles()
	if err != nil {
		return 0
	}
	var flops float64
	for i, role := range refs {
		w := m.Weight(in.Refs[i])
		if w == nil {
			continue
		}
		shape, err := w.Type.ShapeIn(m.Sizes())
		if err != nil {
			continue
		}
		switch {
		case isMatrixRole(role) && len(shape) == 2:
			flops += 2 * float64(shape[0]) * float64(shape[1])
		case isBiasRole(role) && len(shape) == 1:
			flops += float64(shape[0])
		}
	}
	return flops
}

// isMatrixRole reports whether an operand role names a weight matrix.
func isMatrixRole(role string) bool {
	switch role {
	case "w", "wq", "wk", "wv", "wg", "wu":
		return true
	}
	return false
}

// isBiasRole reports whether an operand role names a bias vector.
func isBiasRole(role string) bool {
	switch role {
	case "bias", "bq", "bk", "bv", "bg", "bu":
		return true
	}
	return false
}

// projectionFlopsPerRow sums matFlopsPerRow over f's instructions: the
// weight-matrix work one row costs.
func projectionFlopsPerRow(m *ir.Module, f *ir.Func) float64 {
	var total float64
	for _, in := range f.Body {
		total += matFlopsPerRow(m, in)
	}
	return total
}

// count prints a number of operations for people: "1.2M", "65.5K".
func count(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

package llvm

// Loop is the result of CountedLoop: the block after the loop, the final
// value of the induction variable, and the final carried values.
type Loop struct {
	Exit    *Block
	End     Value   // the first i that failed i < to (from, if no iteration ran)
	Results []Value // the carried values after the last iteration (init if none ran)
}

// LoopBody emits one iteration starting in block b with induction value i
// and carried values; it returns the block it ended in (not yet
// terminated) and the carried values for the next iteration.
type LoopBody func(b *Block, i Value, carried []Value) (*Block, []Value)

// CountedLoop emits `for i := from; i < to; i += step` (i64, signed
// compare) starting in block pre, which it terminates. Values in init are
// carried from one iteration to the next (phis). The loop is
// bottom-tested: a guard in pre skips it when it would not run at all,
// unless from and to are constants that make the first test true, so a
// loop with a known trip count costs one branch per iteration.
func CountedLoop(pre *Block, hint string, from, to Value, step int64, init []Value, body LoopBody) Loop {
	f := pre.f
	head := f.NewBlock(hint)
	exit := f.NewBlock(hint + ".end")

	guarded := !knownLess(from, to)
	if guarded {
		pre.CondBr(pre.ICmp("slt", from, to, hint+".any"), head, exit)
	} else {
		pre.Br(head)
	}

	i := head.Phi(I64, hint+".i")
	i.AddIncoming(from, pre)
	carried := make([]Value, len(init))
	phis := make([]*Phi, len(init))
	for j, v := range init {
		phis[j] = head.Phi(v.Type(), hint+".c")
		phis[j].AddIncoming(v, pre)
		carried[j] = phis[j]
	}

	last, next := body(head, i, carried)
	inext := last.Add(i, ConstInt(I64, step), hint+".next")
	last.CondBr(last.ICmp("slt", inext, to, hint+".more"), head, exit)
	i.AddIncoming(inext, last)
	for j, p := range phis {
		p.AddIncoming(next[j], last)
	}

	out := Loop{Exit: exit, End: inext, Results: next}
	if guarded {
		// The exit is reached from pre (no iteration) or from the body.
		end := exit.Phi(I64, hint+".endi")
		end.AddIncoming(from, pre)
		end.AddIncoming(inext, last)
		out.End = end
		out.Results = make([]Value, len(next))
		for j, v := range next {
			r := exit.Phi(v.Type(), hint+".r")
			r.AddIncoming(init[j], pre)
			r.AddIncoming(v, last)
			out.Results[j] = r
		}
	}
	return out
}

// knownLess reports whether a and c are integer constants with a < c.
func knownLess(a, c Value) bool {
	x, ok1 := constInt(a)
	y, ok2 := constInt(c)
	return ok1 && ok2 && x < y
}

// constInt is the value of a scalar integer constant.
func constInt(v Value) (int64, bool) {
	c, ok := v.(constant)
	return c.ival, ok && c.isInt
}

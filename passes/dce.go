package passes

import "github.com/omex-dev/omex/ir"

// dce removes instructions whose results nothing uses. A value is live
// when a function returns it or a live instruction reads it; an
// instruction is live when one of its results is, or when it has side
// effects (attention writes the KV cache that later calls read, so it
// stays even when its output is unused). One backward walk over the
// straight-line body finds them all, chains of dead instructions included.
//
// Weight and state declarations are left alone, used or not: they describe
// the package the module runs against, not the computation.
func dce(m *ir.Module, c *Context) error {
	removed := 0
	for _, f := range m.Funcs {
		live := map[*ir.Value]bool{}
		for _, r := range f.Results {
			live[r] = true
		}
		keep := make([]bool, len(f.Body))
		for i := len(f.Body) - 1; i >= 0; i-- {
			in := f.Body[i]
			keep[i] = in.HasSideEffects()
			for _, r := range in.Results {
				keep[i] = keep[i] || live[r]
			}
			if !keep[i] {
				continue
			}
			for _, a := range in.Args {
				live[a] = true
			}
		}
		body := f.Body[:0]
		for i, in := range f.Body {
			if keep[i] {
				body = append(body, in)
			} else {
				c.Logf("@%s: removed %s", f.Name, in)
				removed++
			}
		}
		f.Body = body
	}
	if removed > 0 {
		c.Report("removed", float64(removed), "instrs", "dead instructions removed: %d", removed)
	}
	return nil
}

package passes

// pipeline is the optimizer, in the order it runs: this table is the table
// of contents of package passes. Each pass lives in its own file, named for
// the pass, and is added here with one line:
//
//	{Name: "cse", Run: cse, Description: "merge instructions that compute the same value"},
//
// Order matters and is chosen here, not in the passes: cleanups run before
// the pattern-matching fusions so the patterns are found in canonical form,
// pruning runs before precision so the accuracy measured is the one of the
// final graph, and memory planning comes last because every earlier pass
// changes which intermediate tensors exist. The intended order:
//
//	cleanup:   canonicalize (constant folding), cse, dce
//	fusion:    rmsnorm into the matmuls, q/k/v, gate/up with SiLU·mul,
//	           rope into the q/k epilogue, residual add into the matmul
//	shape:     prompt-driven output pruning (prefill's classifier on the last row)
//	precision: per-tensor quantization policy (--quant), with its accuracy report
//	target:    weight layout for the target's kernels
//	memory:    liveness and arena offsets of every intermediate tensor
//
// Mark a pass Required only when a later stage cannot work without it (a
// backend that needs the arena plan, for example); optional passes may be
// turned off with --disable-pass to find which one changed a result.
var pipeline = []Pass{
	{Name: "canonicalize", Run: canonicalize, Description: "fold constants and remove identity ops (x*1, x+-0, no-op reshape/slice/transpose, chains of reshapes or transposes)"},
	{Name: "cse", Run: cse, Description: "merge instructions that compute the same value (same op, operands, refs and attributes)"},
	{Name: "dce", Run: dce, Description: "remove instructions whose results are unused, keeping those with side effects (attention)"},
	// The fusions that build the fused matmuls come before fuse-norm-matmul,
	// which then folds each block's rmsnorm into the one fused op reading it
	// (fused first, it would give q, k and v an rmsnorm each).
	{Name: "fuse-qkv", Run: fuseQKV, Description: "merge an attention's q, k and v projections of one input into matmul_qkv"},
	{Name: "fuse-gate-up", Run: fuseGateUp, Description: "merge gate and up projections with their SiLU·mul into matmul_gate_up"},
	{Name: "fuse-rope", Run: fuseRope, Description: "move rope into the epilogue of the projection it rotates (matmul_qkv, matmul_rope)"},
	{Name: "fuse-norm-matmul", Run: fuseNormMatMul, Description: "fold an rmsnorm read only by matmuls into their rmsnorm prologue"},
	{Name: "fuse-residual", Run: fuseResidual, Description: "fold a residual add into the matmul that produces the branch (matmul_add)"},
	{Name: "prune-outputs", Run: pruneOutputs, Description: "prefill computes the classifier for the last prompt position only (its result becomes f32[1,vocab])"},
	{Name: "precision", Run: precision, Description: "apply the --quant policy to the weights' declared types and measure its top-1 agreement and KL divergence"},
	{Name: "layout", Run: layout, Description: "mark weights with the data layout the target's kernels want (none for the generic target)"},
	{Name: "memplan", Run: memplan, Description: "give every intermediate tensor an offset in one arena per function from its liveness"},
}

// Pipeline returns a copy of the standard pipeline table, in order.
func Pipeline() []Pass {
	return append([]Pass(nil), pipeline...)
}

// Lookup returns the pipeline's pass with this name.
func Lookup(name string) (Pass, bool) {
	for _, p := range pipeline {
		if p.Name == name {
			return p, true
		}
	}
	return Pass{}, false
}

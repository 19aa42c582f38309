package goasm

import (
	"fmt"
	"go/format"
	"math"
	"strconv"
	"strings"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// ModelFunc is the constructor GenerateModel's package exports: an
// exe.NewModel, func(*exe.Bundle) (generate.Model, error), for
// link.ModelCtor{Package: <the package's import path>, Func: ModelFunc}.
const ModelFunc = "New"

// DecodeFunc is the function of the module the schedule runs.
const DecodeFunc = "decode"

// GenerateModel returns the files of package pkg that run module m's
// decode function with ISA's kernels: the schedule, Go source of @decode
// as straight-line calls over one static arena laid out by the module's
// memory plan, and the matvec kernels it calls (Generate's files).
//
// The package exports New (an exe.NewModel reading the weights from the
// executable's bundle), NewFromWeights (the same from any weight reader)
// and Model, a generate.Model: Decode runs the schedule once; Prefill runs
// the same instructions over chunks of up to PrefillRows prompt rows, the
// matrix products through the kernels' several-rows forms (MatVec.RowsName)
// and attention row by row, causally, which computes exactly what the
// module's prefill computes (each row of a prefill matmul is that row's
// matvec), so the logits are the interpreter's, bit for bit.
//
// Weights annotated with the ISA's interleaved layout (passes registers
// it for every target with assembly) go through the generated kernels and
// must be handed over repacked (passes.RepackedWeights); row-major ones go
// through runtime/kernels. Vectors (norms, biases) are read as they are.
// Matvecs big enough are split across GOMAXPROCS goroutines by row groups,
// with no allocation per token. The other ops call runtime/kernels: their
// float32 order (sums over a row or a head, float64 exp/sin/cos) admits
// no lane-parallel form that keeps the bits.
//
// The module must have been through the pipeline down to memplan: @decode
// with (i32[1], i32[]) parameters, a fresh memory plan, one row per value.
// What the schedule cannot express (transpose, argmax, several rows) is a
// model error; the caller then builds the reference runtime instead.
func GenerateModel(m *ir.Module, isa ISA, pkg string) ([]File, error) {
	if _, err := ParseISA(string(isa)); err != nil {
		return nil, err
	}
	g := &schedGen{m: m, isa: isa, sizes: m.Sizes(), byName: map[string]*schedWeight{},
		stateField: map[string]string{}, keysT: map[string]Attn{}, ropeIdx: map[ropeKey]int{}, slot: map[*ir.Value]ir.Slot{}}
	if err := g.prepare(); err != nil {
		return nil, err
	}
	if err := g.emitDecode(); err != nil {
		return nil, err
	}
	if err := g.emitRows(); err != nil {
		return nil, err
	}
	var ks []MatVec
	for _, w := range g.weights {
		if w.kind == wInterleaved {
			ks = append(ks, w.mv)
		}
	}
	files, err := Generate(pkg, ks)
	if err != nil {
		return nil, err
	}
	src, err := formatGo("model_gen.go", g.modelSource(pkg))
	if err != nil {
		return nil, err
	}
	rt, err := formatGo("model_runtime_gen.go", modelRuntimeSource(pkg))
	if err != nil {
		return nil, err
	}
	if g.expAsm() { // also the softmax of the attention kernels
		exp, err := ExpFiles(pkg, []ISA{isa})
		if err != nil {
			return nil, err
		}
		files = append(files, exp...)
	}
	if len(g.keysT) > 0 {
		var ks []Attn
		for _, a := range g.keysT {
			ks = append(ks, a)
		}
		attn, err := AttnFiles(pkg, ks)
		if err != nil {
			return nil, err
		}
		files = append(files, attn...)
	}
	return append(files, File{"model_gen.go", src}, File{"model_runtime_gen.go", rt}), nil
}

// attnKernel returns the attention kernel for a head size over key cache
// state kcache, if the ISA has one, and records that the cache is then
// kept transposed ([width][CtxPad], see Attn).
func (g *schedGen) attnKernel(kcache string, hd, kvDim int) (Attn, bool, error) {
	s := g.m.State(kcache)
	shape, err := s.Type.ShapeIn(g.sizes)
	if err != nil || len(shape) != 2 || shape[1] != kvDim {
		return Attn{}, false, unsupported("key cache @%s : %s is not f32[ctx, %d]", kcache, s.Type, kvDim)
	}
	a, ok := AttnFor(g.isa, hd, kvDim, shape[0])
	if !ok {
		return Attn{}, false, nil
	}
	if prev, seen := g.keysT[kcache]; seen && prev != a {
		return Attn{}, false, unsupported("key cache @%s is read by attentions of different shapes", kcache)
	}
	g.keysT[kcache] = a
	g.maxScores = max(g.maxScores, a.CtxPad)
	return a, true, nil
}

// scoresVar is the attention scores scratch: the Model's in Decode, the
// running goroutine's (a parameter of prefill's row loops) in rows mode.
func (g *schedGen) scoresVar() string {
	if g.rowsMode {
		return "scores"
	}
	return "m.scores"
}

// expAsm reports whether the ISA has exp kernels in assembly
// (expkernels.go); without, the schedule calls runtime/kernels.
func (g *schedGen) expAsm() bool { return expGroup(g.isa) > 0 }

// expFn is the function the schedule calls for exp kernel op ("softmax",
// "silu", "siluMul"): the generated one, or runtime/kernels'.
func (g *schedGen) expFn(op string) string {
	if g.expAsm() {
		return op + "_" + string(g.isa)
	}
	return map[string]string{"softmax": "kernels.Softmax", "silu": "kernels.SiLU", "siluMul": "kernels.SiLUMul"}[op]
}

// unsupported is the error for a module the schedule cannot run.
func unsupported(format string, args ...any) error {
	return omexerr.Modelf("model.codegen_unsupported", "schedule generator: "+format, args...)
}

// The kinds of weight fields.
const (
	wInterleaved = iota // a matrix in the ISA's interleaved layout: a generated kernel
	wMatrix             // a row-major matrix: runtime/kernels.Matrix
	wVector             // a norm or bias: []float32
)

// schedWeight is one weight the schedule reads and the Model field that
// holds it.
type schedWeight struct {
	name       string
	field      string
	kind       int
	dtype      tensor.DType
	rows, cols int    // matrices
	n          int    // vectors
	mv         MatVec // interleaved matrices
}

// ropeKey is one rotary table (every rope of a model usually shares one).
type ropeKey struct {
	headDim int
	theta   uint32 // float32 bits
}

// schedGen generates one module's schedule.
type schedGen struct {
	m          *ir.Module
	f          *ir.Func
	isa        ISA
	sizes      ir.Sizes
	plan       *ir.Plan
	slot       map[*ir.Value]ir.Slot
	weights    []*schedWeight
	byName     map[string]*schedWeight
	states     []*ir.State
	stateField map[string]string
	ropes      []ropeKey
	ropeIdx    map[ropeKey]int
	ctx, vocab int
	maxH       int             // prologue scratch (rmsnorm before a matmul)
	maxUp      int             // matmul_gate_up's up projection
	maxScores  int             // attention scores
	keysT      map[string]Attn // key caches kept transposed for their attention kernel
	result     *ir.Value
	body       strings.Builder // Decode's body
	rowsBody   strings.Builder // prefillRows' body
	// loop collects the open per-row loop's body in rows mode; heavy: it
	// calls a kernel worth running rows in parallel; parts: the bodies of
	// the loops made into rowsPart methods.
	loop  strings.Builder
	heavy bool
	parts []string
	// rowsMode: emitting prefillRows, where values live in one row block
	// per prompt row (c[r*rowFloats:]), matrix products run over all rows
	// at once and everything else in per-row loops; open: such a loop is
	// open.
	rowsMode, open bool
}

// matrixRoles are the operand roles that read a weight as a matrix.
var matrixRoles = map[string]bool{"w": true, "wq": true, "wk": true, "wv": true, "wg": true, "wu": true, "table": true}

// prepare checks the decode function and its plan and gathers the
// weights, states and rope tables it uses.
func (g *schedGen) prepare() error {
	g.f = g.m.Func(DecodeFunc)
	if g.f == nil {
		return unsupported("module %q has no @%s", g.m.Name, DecodeFunc)
	}
	f := g.f
	if len(f.Params) != 2 || !f.Params[0].Type.Equal(ir.T(ir.I32, ir.C(1))) || !f.Params[1].Type.Equal(ir.T(ir.I32)) || len(f.Results) != 1 {
		return unsupported("@%s must take (i32[1], i32[]) and return one value", DecodeFunc)
	}
	g.plan = g.m.Plan(DecodeFunc)
	if g.plan == nil {
		return unsupported("@%s has no memory plan (run the memplan pass)", DecodeFunc)
	}
	for _, s := range g.plan.Slots {
		g.slot[s.Value] = s
	}
	ctx, ok := g.m.DimValue("ctx")
	if !ok || ctx < 1 {
		return unsupported("module %q binds no ctx dimension", g.m.Name)
	}
	g.ctx, g.maxScores = ctx, ctx
	g.result = f.Results[0]
	rt := g.result.Type
	if rt.Elem != ir.F32 || rt.Rank() != 2 || !rt.Shape[1].IsConst() || rt.Shape[0] != ir.C(1) {
		return unsupported("@%s returns %s, not f32[1,vocab]", DecodeFunc, rt)
	}
	g.vocab = rt.Shape[1].N
	for _, in := range f.Body {
		argRoles, refRoles, err := in.Roles()
		if err != nil {
			return unsupported("%s: %v", in, err)
		}
		for _, v := range in.Results {
			if v.Type.Elem != ir.F32 {
				return unsupported("%s: result %%%s is %s; the schedule holds f32 values only", in, v.Name, v.Type)
			}
			if _, ok := g.slot[v]; !ok {
				return unsupported("%%%s has no place in the memory plan", v.Name)
			}
			if _, err := g.elems(v); err != nil {
				return err
			}
		}
		for i, a := range in.Args {
			if a.Type.Elem == ir.I32 && a != f.Params[0] && a != f.Params[1] {
				return unsupported("%s: operand %s is an i32 value other than the token and position", in, argRoles[i])
			}
		}
		if err := g.checkNoOverlap(in); err != nil {
			return err
		}
		for i, name := range in.Refs {
			role := refRoles[i]
			if role == "kcache" || role == "vcache" {
				if err := g.addState(name); err != nil {
					return err
				}
				continue
			}
			vector := !matrixRoles[role] || in.Op == ir.OpRMSNorm
			if err := g.addWeight(name, vector); err != nil {
				return err
			}
		}
		if err := g.addRopes(in); err != nil {
			return err
		}
	}
	return nil
}

// elems is the element count of a value, whose shape must be constant.
func (g *schedGen) elems(v *ir.Value) (int, error) {
	n, err := v.Type.Elements(g.sizes)
	if err != nil {
		return 0, unsupported("%%%s : %s: %v", v.Name, v.Type, err)
	}
	if n > 1<<40 {
		return 0, unsupported("%%%s : %s is too large", v.Name, v.Type)
	}
	return int(n), nil
}

// checkNoOverlap makes sure no result of in shares arena bytes with an
// operand (the plan keeps values live together apart; this guards the
// kernels, which read operands while writing results).
func (g *schedGen) checkNoOverlap(in *ir.Instr) error {
	for _, r := range in.Results {
		rs := g.slot[r]
		for _, a := range in.Args {
			as, ok := g.slot[a]
			if !ok {
				continue
			}
			if rs.Offset < as.Offset+as.Size && as.Offset < rs.Offset+rs.Size {
				return unsupported("%s: the plan puts result %%%s over operand %%%s", in, r.Name, a.Name)
			}
		}
	}
	return nil
}

// addWeight records a weight read as a vector or a matrix.
func (g *schedGen) addWeight(name string, vector bool) error {
	decl := g.m.Weight(name)
	if decl == nil {
		return unsupported("@%s is not a declared weight", name)
	}
	shape, err := decl.Type.ShapeIn(g.sizes)
	if err != nil {
		return unsupported("@%s: %v", name, err)
	}
	dt, ok := decl.Type.Elem.DType()
	if !ok {
		return unsupported("@%s has element type %s", name, decl.Type.Elem)
	}
	kind := wVector
	if !vector {
		kind = wMatrix
		if len(shape) != 2 {
			return unsupported("@%s : %s is read as a matrix", name, decl.Type)
		}
		switch decl.Layout {
		case "":
		case LayoutName(g.isa.Lanes()):
			if g.isa != Generic {
				kind = wInterleaved
			}
		default:
			return unsupported("@%s has layout %q; the %s kernels read %q", name, decl.Layout, g.isa, LayoutName(g.isa.Lanes()))
		}
	}
	if w := g.byName[name]; w != nil {
		if (w.kind == wVector) != (kind == wVector) {
			return unsupported("@%s is read both as a vector and as a matrix", name)
		}
		return nil
	}
	w := &schedWeight{name: name, field: fmt.Sprintf("w%d", len(g.weights)), kind: kind, dtype: dt}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if kind == wVector {
		w.n = n
	} else {
		w.rows, w.cols = shape[0], shape[1]
	}
	if kind == wInterleaved {
		w.mv = MatVec{ISA: g.isa, DType: dt, N: w.rows, K: w.cols}
		if err := w.mv.Check(); err != nil {
			return err
		}
	}
	g.weights = append(g.weights, w)
	g.byName[name] = w
	return nil
}

// addState records a KV-cache state.
func (g *schedGen) addState(name string) error {
	if _, ok := g.stateField[name]; ok {
		return nil
	}
	s := g.m.State(name)
	if s == nil {
		return unsupported("@%s is not a declared state", name)
	}
	shape, err := s.Type.ShapeIn(g.sizes)
	if err != nil || len(shape) != 2 || s.Type.Elem != ir.F32 || shape[0] < g.ctx {
		return unsupported("state @%s : %s is not an f32[ctx, width] cache", name, s.Type)
	}
	g.stateField[name] = fmt.Sprintf("s%d", len(g.states))
	g.states = append(g.states, s)
	return nil
}

// addRopes records the rotary tables an instruction uses.
func (g *schedGen) addRopes(in *ir.Instr) error {
	rotates := in.Op == ir.OpRope || in.Op == ir.OpMatMulRope || in.Op == ir.OpMatMulQKV && in.Attrs.Has("theta")
	if !rotates {
		return nil
	}
	hd, _ := in.Attrs.Int("head_dim")
	theta, _ := in.Attrs.Float("theta")
	k := ropeKey{hd, math.Float32bits(theta)}
	if _, ok := g.ropeIdx[k]; !ok {
		g.ropeIdx[k] = len(g.ropes)
		g.ropes = append(g.ropes, k)
	}
	return nil
}

// val is the arena slice holding v.
func (g *schedGen) val(v *ir.Value) string {
	s := g.slot[v]
	n, _ := g.elems(v)
	lo := s.Offset / 4
	return fmt.Sprintf("a[%d:%d]", lo, lo+int64(n))
}

// line writes one line of the body being emitted; in rows mode it goes
// into the per-row loop, opened if need be, where a is the row's block.
func (g *schedGen) line(format string, args ...any) {
	if g.rowsMode && !g.open {
		g.open = true
		g.loop.Reset()
		g.heavy = false
	}
	if !g.open {
		g.raw(format, args...)
		return
	}
	text := fmt.Sprintf(format, args...)
	for _, k := range rowParallelCalls {
		g.heavy = g.heavy || strings.Contains(text, k)
	}
	g.loop.WriteString("\t\t" + text + "\n")
}

// rowParallelCalls mark a per-row loop whose rows are worth spreading
// over the pool's workers (the others cost less than handing them out).
var rowParallelCalls = []string{"attention_", "Attention", "siluMul_", "silu_", "kernels.SiLU", "kernels.RMSNorm", "softmax_", "kernels.Softmax"}

// raw writes one line outside any per-row loop.
func (g *schedGen) raw(format string, args ...any) {
	b := &g.body
	if g.rowsMode {
		b = &g.rowsBody
	}
	b.WriteByte('\t')
	fmt.Fprintf(b, format, args...)
	b.WriteByte('\n')
}

// closeRows ends the open per-row loop, if any: a heavy one becomes a
// rowsPart method that the pool runs over ranges of rows, any other an
// inline loop.
func (g *schedGen) closeRows() {
	if !g.open {
		return
	}
	g.open = false
	body := g.loop.String()
	if g.heavy && !strings.Contains(body, "return ") {
		g.raw("m.pool.rows(m, %d, c, pos, n, scores)", len(g.parts))
		g.parts = append(g.parts, body)
		return
	}
	g.raw("for r := range n {")
	g.raw("\ta := c[r*rowFloats : (r+1)*rowFloats]")
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		g.raw("%s", strings.TrimPrefix(l, "\t"))
	}
	g.raw("}")
}

// tail turns a row's slice "a[LO:HI]" into the slice of the chunk from
// row 0's LO on, "c[LO:]", which a several-rows kernel strides through.
func tail(s string) string {
	return "c[" + s[2:strings.IndexByte(s, ':')] + ":]"
}

// scratch is the prologue (h) or up-projection (up) scratch of n floats:
// the Model's own in Decode, the row block's in rows mode.
func (g *schedGen) scratch(name string, n int) string {
	if g.rowsMode {
		return fmt.Sprintf("a[%sOff : %sOff+%d]", name, name, n)
	}
	return fmt.Sprintf("m.%s[:%d]", name, n)
}

// f32lit spells a float32 exactly: its bits, with the value in a comment.
func f32lit(v float32) string {
	return fmt.Sprintf("math.Float32frombits(0x%08x) /* %s */", math.Float32bits(v), strconv.FormatFloat(float64(v), 'g', -1, 32))
}

// operands maps an instruction's operands by role.
type operands struct {
	args map[string]*ir.Value
	refs map[string]string
}

// emitDecode writes the body of Decode: one block per instruction.
func (g *schedGen) emitDecode() error { return g.emitBody(false) }

// emitRows writes the body of prefillRows: Decode's instructions for n
// prompt rows at once. Attention runs row by row in order, each row
// writing its keys and values before it attends, so row r sees positions
// 0..pos+r: the module's causal prefill. The instruction that computes the
// logits runs only when last is set, for the last row.
func (g *schedGen) emitRows() error {
	g.rowsMode = true
	defer func() { g.rowsMode = false }()
	return g.emitBody(true)
}

// emitBody writes one block per instruction of @decode.
func (g *schedGen) emitBody(rows bool) error {
	for i, in := range g.f.Body {
		lastOnly := rows && i == len(g.f.Body)-1 && len(in.Results) == 1 && in.Results[0] == g.result
		if lastOnly {
			g.raw("// the logits: the last row only, on the last chunk")
			g.raw("if last {")
			g.raw("c, n := c[(n-1)*rowFloats:], 1")
			g.raw("_ = n")
		}
		argRoles, refRoles, _ := in.Roles()
		o := operands{args: map[string]*ir.Value{}, refs: map[string]string{}}
		for i, r := range argRoles {
			o.args[r] = in.Args[i]
		}
		for i, r := range refRoles {
			o.refs[r] = in.Refs[i]
		}
		g.raw("// %s", strings.ReplaceAll(in.String(), "\n", " "))
		if err := g.emitInstr(in, o); err != nil {
			return err
		}
		g.closeRows()
		if lastOnly {
			g.raw("copy(m.logits, c[%d:%d])", g.slot[g.result].Offset/4, g.slot[g.result].Offset/4+int64(g.vocab))
			g.raw("}")
		} else if rows && i == len(g.f.Body)-1 {
			g.raw("if last {")
			g.raw("copy(m.logits, c[(n-1)*rowFloats+%d:(n-1)*rowFloats+%d])", g.slot[g.result].Offset/4, g.slot[g.result].Offset/4+int64(g.vocab))
			g.raw("}")
		}
	}
	return nil
}

// rows is the number of rows of x (every dimension but the last).
func (g *schedGen) rows(x *ir.Value) int {
	n, _ := g.elems(x)
	if x.Type.Rank() == 0 {
		return 1
	}
	last := x.Type.Shape[x.Type.Rank()-1]
	if !last.IsConst() || last.N == 0 {
		return 0
	}
	return n / last.N
}

// oneRow refuses values of several rows where the schedule computes one.
func (g *schedGen) oneRow(in *ir.Instr, x *ir.Value) error {
	if r := g.rows(x); r != 1 {
		return unsupported("%s: %%%s has %d rows; the decode schedule computes one", in, x.Name, r)
	}
	return nil
}

// matvec writes out = W x (+ bias) for the weight named w.
func (g *schedGen) matvec(out, x, w, bias string) {
	sw := g.byName[w]
	switch {
	case g.rowsMode && sw.kind == wInterleaved:
		g.closeRows()
		g.raw("m.pool.matmul(&m.%s, %s, %s, n, rowFloats)", sw.field, tail(out), tail(x))
	case sw.kind == wInterleaved:
		g.line("m.pool.matvec(&m.%s, %s, %s)", sw.field, out, x)
	default:
		g.line("m.%s.MatVec(%s, %s)", sw.field, out, x)
	}
	if bias != "" {
		g.line("kernels.Add(%s, m.%s)", out, g.byName[bias].field)
	}
}

// rope rotates v (heads of headDim) by the current position's table.
func (g *schedGen) rope(v string, in *ir.Instr) error {
	hd, _ := in.Attrs.Int("head_dim")
	theta, _ := in.Attrs.Float("theta")
	layout, _ := in.Attrs.Str("layout")
	i := g.ropeIdx[ropeKey{hd, math.Float32bits(theta)}]
	cos, sin := fmt.Sprintf("m.cos%d", i), fmt.Sprintf("m.sin%d", i)
	if g.rowsMode {
		h := hd / 2
		cos, sin = fmt.Sprintf("m.rcos%d[r*%d:(r+1)*%d]", i, h, h), fmt.Sprintf("m.rsin%d[r*%d:(r+1)*%d]", i, h, h)
	}
	switch layout {
	case ir.RopeInterleaved:
		g.line("kernels.RopeInterleaved(%s, %s, %s, %d)", v, cos, sin, hd)
	case ir.RopeHalfSplit:
		g.line("kernels.RopeHalfSplit(%s, %s, %s, %d)", v, cos, sin, hd)
	default:
		return unsupported("%s: rope layout %q", in, layout)
	}
	return nil
}

// prologue returns the matmuls' input of a fused op: x, or rmsnorm(x)
// written into the scratch.
func (g *schedGen) prologue(in *ir.Instr, o operands) string {
	x := o.args["x"]
	if _, ok := in.Attrs.Float("eps"); !ok || o.refs["norm"] == "" {
		return g.val(x)
	}
	eps, _ := in.Attrs.Float("eps")
	n, _ := g.elems(x)
	g.maxH = max(g.maxH, n)
	h := g.scratch("h", n)
	g.line("kernels.RMSNorm(%s, %s, m.%s, %s)", h, g.val(x), g.byName[o.refs["norm"]].field, f32lit(eps))
	return h
}

// emitInstr writes the calls of one instruction.
func (g *schedGen) emitInstr(in *ir.Instr, o operands) error {
	x := o.args["x"]
	var out string
	if len(in.Results) > 0 {
		out = g.val(in.Results[0])
	}
	switch in.Op {
	case ir.OpEmbed:
		if o.args["tokens"] != g.f.Params[0] {
			return unsupported("%s: embed reads the token parameter only", in)
		}
		w := g.byName[o.refs["table"]]
		if g.rowsMode {
			g.line("token := tokens[r]")
		}
		g.line("if token >= %d {", w.rows)
		g.line("\treturn nil, omexerr.Inputf(\"input.token_out_of_vocab\", \"token id %%d is outside the vocabulary (0..%d)\", token)", w.rows-1)
		g.line("}")
		if w.kind == wInterleaved {
			g.line("m.%s.row(token, %s)", w.field, out)
		} else {
			g.line("m.%s.Row(token, %s)", w.field, out)
		}
	case ir.OpMatMul:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		g.matvec(out, g.val(x), o.refs["w"], o.refs["bias"])
	case ir.OpRMSNorm:
		eps, _ := in.Attrs.Float("eps")
		d := in.Results[0].Type.Shape[in.Results[0].Type.Rank()-1].N
		n, _ := g.elems(x)
		xs := g.slot[x].Offset / 4
		os := g.slot[in.Results[0]].Offset / 4
		for r := 0; r < n/max(d, 1); r++ {
			lo := int64(r * d)
			g.line("kernels.RMSNorm(a[%d:%d], a[%d:%d], m.%s, %s)", os+lo, os+lo+int64(d), xs+lo, xs+lo+int64(d), g.byName[o.refs["w"]].field, f32lit(eps))
		}
	case ir.OpRope:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		g.line("copy(%s, %s)", out, g.val(x))
		return g.rope(out, in)
	case ir.OpAttention:
		q, k, v := o.args["q"], o.args["k"], o.args["v"]
		if err := g.oneRow(in, q); err != nil {
			return err
		}
		heads, _ := in.Attrs.Int("heads")
		kvHeads, _ := in.Attrs.Int("kv_heads")
		hd, _ := in.Attrs.Int("head_dim")
		kvDim := kvHeads * hd
		kc, vc := g.stateField[o.refs["kcache"]], g.stateField[o.refs["vcache"]]
		if g.rowsMode {
			g.line("pos := pos + r")
		}
		if a, ok, err := g.attnKernel(o.refs["kcache"], hd, kvDim); err != nil {
			return err
		} else if ok {
			g.line("storeKeysT(m.%s, %s, pos, %d)", kc, g.val(k), a.CtxPad)
			g.line("copy(m.%s[pos*%d:(pos+1)*%d], %s)", vc, kvDim, kvDim, g.val(v))
			if g.rowsMode {
				// Every row's keys and values are stored before any row
				// attends, so rows can attend in parallel.
				g.closeRows()
				g.line("pos := pos + r")
			}
			g.line("%s(%s, %s, m.%s, m.%s, %d, %d, pos+1, %s)", a.Name(), out, g.val(q), kc, vc, heads, kvHeads, g.scoresVar())
			return nil
		}
		g.line("copy(m.%s[pos*%d:(pos+1)*%d], %s)", kc, kvDim, kvDim, g.val(k))
		g.line("copy(m.%s[pos*%d:(pos+1)*%d], %s)", vc, kvDim, kvDim, g.val(v))
		if g.rowsMode {
			g.closeRows() // as above: store every row first
			g.line("pos := pos + r")
		}
		if g.expAsm() {
			g.line("kernels.AttentionWith(softmax_%s, %s, %s, m.%s, m.%s, %d, %d, %d, pos+1, %s)", g.isa, out, g.val(q), kc, vc, heads, kvHeads, hd, g.scoresVar())
		} else {
			g.line("kernels.Attention(%s, %s, m.%s, m.%s, %d, %d, %d, pos+1, %s)", out, g.val(q), kc, vc, heads, kvHeads, hd, g.scoresVar())
		}
	case ir.OpSoftmax:
		g.line("copy(%s, %s)", out, g.val(x))
		d := x.Type.Shape[x.Type.Rank()-1].N
		n, _ := g.elems(x)
		os := g.slot[in.Results[0]].Offset / 4
		for r := 0; d > 0 && r < n/d; r++ {
			g.line("%s(a[%d:%d])", g.expFn("softmax"), os+int64(r*d), os+int64(r*d+d))
		}
	case ir.OpSilu:
		g.line("copy(%s, %s)", out, g.val(x))
		g.line("%s(%s)", g.expFn("silu"), out)
	case ir.OpGelu:
		g.line("geluInto(%s, %s)", out, g.val(x))
	case ir.OpMul, ir.OpAdd:
		fn := "Mul"
		if in.Op == ir.OpAdd {
			fn = "Add"
		}
		a, b := o.args["a"], o.args["b"]
		na, _ := g.elems(a)
		nb, _ := g.elems(b)
		n, _ := g.elems(in.Results[0])
		switch {
		case na == n && nb == n:
			g.line("copy(%s, %s)", out, g.val(a))
			g.line("kernels.%s(%s, %s)", fn, out, g.val(b))
		case nb == 1:
			g.line("scalar%s(%s, %s, %s[0], false)", fn, out, g.val(a), g.val(b))
		default:
			g.line("scalar%s(%s, %s, %s[0], true)", fn, out, g.val(b), g.val(a))
		}
	case ir.OpReshape:
		if g.slot[x].Offset != g.slot[in.Results[0]].Offset {
			g.line("copy(%s, %s)", out, g.val(x))
		}
	case ir.OpSlice:
		return g.slice(in, x, out)
	case ir.OpConst:
		v, _ := in.Attrs.Float("value")
		g.line("%s[0] = %s", out, f32lit(v))
	case ir.OpRMSNormMatMul:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		h := g.prologue(in, o)
		g.matvec(out, h, o.refs["w"], o.refs["bias"])
	case ir.OpMatMulQKV:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		h := g.prologue(in, o)
		q, k, v := g.val(in.Results[0]), g.val(in.Results[1]), g.val(in.Results[2])
		g.matvec(q, h, o.refs["wq"], o.refs["bq"])
		g.matvec(k, h, o.refs["wk"], o.refs["bk"])
		g.matvec(v, h, o.refs["wv"], o.refs["bv"])
		if o.args["pos"] != nil {
			if err := g.rope(q, in); err != nil {
				return err
			}
			return g.rope(k, in)
		}
	case ir.OpMatMulGateUp:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		h := g.prologue(in, o)
		n, _ := g.elems(in.Results[0])
		g.maxUp = max(g.maxUp, n)
		up := g.scratch("up", n)
		g.matvec(out, h, o.refs["wg"], o.refs["bg"])
		g.matvec(up, h, o.refs["wu"], o.refs["bu"])
		g.line("%s(%s, %s)", g.expFn("siluMul"), out, up)
	case ir.OpMatMulRope:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		h := g.prologue(in, o)
		g.matvec(out, h, o.refs["w"], o.refs["bias"])
		return g.rope(out, in)
	case ir.OpMatMulAdd:
		if err := g.oneRow(in, x); err != nil {
			return err
		}
		g.matvec(out, g.val(x), o.refs["w"], o.refs["bias"])
		g.line("kernels.Add(%s, %s)", out, g.val(o.args["residual"]))
	default:
		return unsupported("%s: op %s has no schedule form", in, in.Op)
	}
	return nil
}

// slice copies elements start..end-1 of one axis (static shapes).
func (g *schedGen) slice(in *ir.Instr, x *ir.Value, out string) error {
	axis, _ := in.Attrs.Int("axis")
	start, _ := in.Attrs.Int("start")
	shape, err := x.Type.ShapeIn(g.sizes)
	if err != nil || axis < 0 || axis >= len(shape) {
		return unsupported("%s: bad slice", in)
	}
	n := shape[axis]
	s, e := start, n
	if end, ok := in.Attrs.Int("end"); ok {
		e = end
	}
	if s < 0 {
		s += n
	}
	if e < 0 {
		e += n
	}
	if s < 0 || e > n || s > e {
		return unsupported("%s: slice %d..%d of an axis of %d", in, s, e, n)
	}
	outer, inner := 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	g.line("sliceCopy(%s, %s, %d, %d, %d, %d, %d)", out, g.val(x), outer, n, inner, s, e)
	return nil
}

// modelSource is model_gen.go: the Model, its constructor and Decode.
func (g *schedGen) modelSource(pkg string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("%s", header)
	p("// Package %s runs module %q's @%s as generated straight-line code over\n", pkg, g.m.Name, DecodeFunc)
	p("// one arena laid out by its memory plan, with the %s kernels.\n", g.isa)
	p("package %s\n\n", pkg)
	p("import (\n\t\"math\"\n\n\t\"github.com/omex-dev/omex/omexerr\"\n\t\"github.com/omex-dev/omex/runtime/exe\"\n")
	p("\t\"github.com/omex-dev/omex/runtime/generate\"\n\t\"github.com/omex-dev/omex/runtime/kernels\"\n\t\"github.com/omex-dev/omex/tensor\"\n)\n\n")
	p("var _ = math.Float32frombits // eps and theta literals\n\n")
	p("const (\n\tctxLen = %d // positions the KV cache holds\n\tvocab = %d // logits per call\n", g.ctx, g.vocab)
	p("\tarenaFloats = %d // the @%s arena: %d bytes\n", g.plan.Arena/4, DecodeFunc, g.plan.Arena)
	p("\t// A prompt row's block in prefill's chunk: the arena, then its own\n\t// prologue (h) and up-projection scratch.\n")
	p("\thOff = arenaFloats\n\tupOff = hOff + %d\n\trowFloats = upOff + %d\n", g.maxH, g.maxUp)
	p("\tchunkRows = %d // prompt rows prefill computes together\n)\n\n", min(PrefillRows, g.ctx))
	p("// Model is the generated %s model, a generate.Model. It is not safe for\n// concurrent use.\n", g.m.Name)
	p("type Model struct {\n\tarena []float32\n\tlogits []float32\n\tfilled int // positions of the cache written so far\n\tpool *mvPool\n")
	if g.maxH > 0 {
		p("\th []float32 // rmsnorm prologue\n")
	}
	if g.maxUp > 0 {
		p("\tup []float32 // matmul_gate_up's up projection\n")
	}
	p("\tscores []float32\n")
	p("\tchunk []float32 // prefill's row blocks\n")
	for i, r := range g.ropes {
		p("\tcos%d, sin%d []float32 // head_dim %d, theta %s\n", i, i, r.headDim, strconv.FormatFloat(float64(math.Float32frombits(r.theta)), 'g', -1, 32))
		p("\tfreq%d []float32 // its per-pair frequencies\n", i)
		p("\trcos%d, rsin%d []float32 // the same per prefill row\n", i, i)
	}
	for _, s := range g.states {
		p("\t%s []float32 // @%s\n", g.stateField[s.Name], s.Name)
	}
	for _, w := range g.weights {
		switch w.kind {
		case wInterleaved:
			p("\t%s mvWeight // @%s %v [%d,%d], %s\n", w.field, w.name, w.dtype, w.rows, w.cols, w.mv.Name())
		case wMatrix:
			p("\t%s *kernels.Matrix // @%s %v [%d,%d], row-major\n", w.field, w.name, w.dtype, w.rows, w.cols)
		default:
			p("\t%s []float32 // @%s [%d]\n", w.field, w.name, w.n)
		}
	}
	p("}\n\nvar _ generate.Model = (*Model)(nil)\n\n")
	p("// %s builds the model over the weights of the executable's bundle (an\n// exe.NewModel).\n", ModelFunc)
	p("func %s(b *exe.Bundle) (generate.Model, error) { return NewFromWeights(b.Tensor) }\n\n", ModelFunc)
	p("// NewFromWeights builds the model over weights read by name: matrices in\n// the kernels' layout where the module says so, already converted to the\n// declared types. Weight data is used in place.\n")
	p("func NewFromWeights(get func(name string) (*tensor.Tensor, error)) (*Model, error) {\n")
	p("\tm := &Model{arena: make([]float32, arenaFloats), logits: make([]float32, vocab), pool: newPool(%d), scores: make([]float32, %d)}\n", max(g.ctx, g.maxScores), max(g.ctx, g.maxScores))
	p("\t_ = upOff // the scratch offsets a model without scratch leaves unused\n")
	if g.maxH > 0 {
		p("\tm.h = make([]float32, %d)\n", g.maxH)
	}
	if g.maxUp > 0 {
		p("\tm.up = make([]float32, %d)\n", g.maxUp)
	}
	for i, r := range g.ropes {
		p("\tm.cos%d, m.sin%d = make([]float32, %d), make([]float32, %d)\n", i, i, r.headDim/2, r.headDim/2)
		p("\tm.freq%d = make([]float32, %d)\n", i, r.headDim/2)
		p("\tkernels.RopeFreqs(m.freq%d, %d, %s)\n", i, r.headDim, f32lit(math.Float32frombits(r.theta)))
	}
	for _, s := range g.states {
		shape, _ := s.Type.ShapeIn(g.sizes)
		n := shape[0] * shape[1]
		if a, ok := g.keysT[s.Name]; ok {
			n = shape[1] * a.CtxPad // transposed for the attention kernel
		}
		p("\tm.%s = make([]float32, %d)\n", g.stateField[s.Name], n)
	}
	p("\tm.chunk = make([]float32, chunkRows*rowFloats)\n")
	for i, r := range g.ropes {
		p("\tm.rcos%d, m.rsin%d = make([]float32, chunkRows*%d), make([]float32, chunkRows*%d)\n", i, i, r.headDim/2, r.headDim/2)
	}
	touch := "m.arena, m.chunk, m.scores"
	for _, st := range g.states {
		touch += ", m." + g.stateField[st.Name]
	}
	p("\tprefault(%s)\n", touch)
	p("\tvar err error\n")
	for _, w := range g.weights {
		switch w.kind {
		case wInterleaved:
			p("\tif m.%s, err = loadInterleaved(get, %q, %s, %d, %d, %d, %d, %d, %d, %s, %s); err != nil {\n", w.field, w.name, dtypeLit[w.dtype], w.rows, w.cols, w.mv.Lanes(), w.mv.Groups(), w.mv.WeightBytes(), w.mv.ScaleCount(), w.mv.Name(), w.mv.RowsName())
		case wMatrix:
			p("\tif m.%s, err = loadMatrix(get, %q, %d, %d); err != nil {\n", w.field, w.name, w.rows, w.cols)
		default:
			p("\tif m.%s, err = loadVector(get, %q, %d); err != nil {\n", w.field, w.name, w.n)
		}
		p("\t\treturn nil, err\n\t}\n")
	}
	p("\treturn m, nil\n}\n\n")
	p("// ContextLength is the number of positions the model holds.\nfunc (m *Model) ContextLength() int { return ctxLen }\n\n")
	p("// VocabSize is the number of logits per call.\nfunc (m *Model) VocabSize() int { return vocab }\n\n")
	p("// Reset forgets the context.\nfunc (m *Model) Reset() { m.filled = 0 }\n\n")
	g.prefillSource(p)
	p("// Decode runs one token at position pos (@%s) and returns its logits; the\n// slice is overwritten by the next call. It allocates nothing.\n", DecodeFunc)
	p("func (m *Model) Decode(token, pos int) ([]float32, error) {\n")
	p("\tif token < 0 {\n\t\treturn nil, omexerr.Inputf(\"input.token_out_of_vocab\", \"token id %%d is negative\", token)\n\t}\n")
	p("\tif pos < 0 || pos >= ctxLen {\n\t\treturn nil, omexerr.Executionf(\"execution.context_full\", \"position %%d is outside the context window (0..%%d)\", pos, ctxLen-1)\n\t}\n")
	p("\tif pos > m.filled {\n\t\treturn nil, omexerr.Executionf(\"execution.position_gap\", \"position %%d skips ahead of the cached context (%%d positions)\", pos, m.filled)\n\t}\n")
	for i := range g.ropes {
		p("\tkernels.RopeTableFrom(m.cos%d, m.sin%d, m.freq%d, pos)\n", i, i, i)
	}
	p("\ta := m.arena\n")
	b.WriteString(g.body.String())
	p("\tm.filled = pos + 1\n")
	p("\tcopy(m.logits, %s)\n\treturn m.logits, nil\n}\n", g.val(g.result))
	return b.String()
}

// dtypeLit spells a dtype in generated code.
var dtypeLit = map[tensor.DType]string{tensor.F32: "tensor.F32", tensor.F16: "tensor.F16", tensor.BF16: "tensor.BF16", tensor.Q8_0: "tensor.Q8_0", tensor.Q4_0: "tensor.Q4_0"}

// formatGo gofmts generated Go source.
func formatGo(name, src string) ([]byte, error) {
	out, err := format.Source([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("goasm: generated %s does not parse: %w", name, err)
	}
	return out, nil
}

// PrefillRows is the most prompt rows a generated Prefill computes
// together (fewer when the context is shorter): enough that each weight
// vector serves several rows (MatMulRows per kernel pass) while the row
// blocks stay small.
const PrefillRows = 32

// prefillSource writes Prefill and prefillRows.
func (g *schedGen) prefillSource(p func(string, ...any)) {
	p(`// Prefill runs the prompt through the schedule in chunks of chunkRows
// rows: matrix products take all rows of a chunk at once (each row's sums
// are its matvec's, bit for bit), the other ops run row by row, and
// attention is causal, so the logits after the last token are the
// module's prefill's, bit for bit. The slice is overwritten by the next
// call. It allocates nothing: the chunk is allocated with the model.
func (m *Model) Prefill(tokens []int, pos int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, omexerr.Inputf("input.empty_prompt", "prefill needs at least one token")
	}
	if pos < 0 || pos+len(tokens) > ctxLen {
		return nil, omexerr.Executionf("execution.context_full", "positions %%d..%%d are outside the context window (0..%%d)", pos, pos+len(tokens)-1, ctxLen-1)
	}
	if pos > m.filled {
		return nil, omexerr.Executionf("execution.position_gap", "position %%d skips ahead of the cached context (%%d positions)", pos, m.filled)
	}
	for _, t := range tokens {
		if t < 0 {
			return nil, omexerr.Inputf("input.token_out_of_vocab", "token id %%d is negative", t)
		}
	}
	if len(tokens) == 1 {
		return m.Decode(tokens[0], pos)
	}
	for start := 0; start < len(tokens); start += chunkRows {
		end := min(start+chunkRows, len(tokens))
		if err := m.prefillRows(tokens[start:end], pos+start, end == len(tokens)); err != nil {
			return nil, err
		}
	}
	return m.logits, nil
}

// prefillRows runs tokens (at most chunkRows) at positions pos.. as one
// chunk and, when last, leaves the last row's logits in m.logits.
func (m *Model) prefillRows(tokens []int, pos int, last bool) error {
	n := len(tokens)
	c := m.chunk[:n*rowFloats]
	for r := range n {
`)
	for i, r := range g.ropes {
		h := r.headDim / 2
		p("\t\tkernels.RopeTableFrom(m.rcos%d[r*%d:(r+1)*%d], m.rsin%d[r*%d:(r+1)*%d], m.freq%d, pos+r)\n", i, h, h, i, h, h, i)
	}
	p("\t}\n")
	p("\tscores := m.scores\n\t_ = scores\n")
	p("%s", strings.ReplaceAll(g.rowsBody.String(), "return nil, omexerr", "return omexerr"))
	p("\tm.filled = pos + n\n\treturn nil\n}\n\n")
	p("// runPart runs rows r0..r1-1 of prefillRows' per-row step part with\n// scores as the attention scratch (a rowParts for the pool).\n")
	p("func (m *Model) runPart(part int, c []float32, pos, r0, r1 int, scores []float32) {\n\tswitch part {\n")
	for i := range g.parts {
		p("\tcase %d:\n\t\tm.rowsPart%d(c, pos, r0, r1, scores)\n", i, i)
	}
	p("\t}\n}\n\n")
	for i, body := range g.parts {
		p("// rowsPart%d is one per-row step of prefillRows, for rows r0..r1-1.\n", i)
		p("func (m *Model) rowsPart%d(c []float32, pos, r0, r1 int, scores []float32) {\n", i)
		p("\tfor r := r0; r < r1; r++ {\n\t\ta := c[r*rowFloats : (r+1)*rowFloats]\n%s\t}\n}\n\n", body)
	}
}

package ir

import (
	"fmt"
	"strconv"
)

// Op is an operation code. Its entry in the op table (Info) gives its name,
// operands, attributes, result rule and whether it has side effects.
type Op uint8

// The ops. The first group is what the frontend lowers a Llama-family
// model to; the fused group is created by the fusion passes and computes
// exactly the float32 operations of the sequence it replaces (docs/IR.md
// gives each expansion).
const (
	OpInvalid Op = iota
	OpEmbed
	OpMatMul
	OpRMSNorm
	OpRope
	OpAttention
	OpSoftmax
	OpSilu
	OpGelu
	OpMul
	OpAdd
	OpReshape
	OpSlice
	OpTranspose
	OpArgmax
	OpConst

	OpRMSNormMatMul
	OpMatMulQKV
	OpMatMulGateUp
	OpMatMulRope
	OpMatMulAdd

	numOps
)

// AttrSpec declares one attribute an op takes.
type AttrSpec struct {
	Name     string
	Kind     AttrKind
	Required bool // optional attributes switch parts of a fused op on (see the op's doc)
}

// OpInfo is an op's entry in the op table.
type OpInfo struct {
	Name        string
	Summary     string // one line, for docs and dumps
	Attrs       []AttrSpec
	SideEffects bool // true when the op writes state: DCE must keep it even if its results are unused
	Fused       bool // created by fusion passes, never by the frontend

	// roles names the instruction's operands (args, then refs) after
	// checking their counts against the op's signature.
	roles func(in *Instr) (args, refs []string, err error)
	// rule checks operand types and attribute values and returns the
	// result types.
	rule func(c *ruleCtx) ([]Type, error)
}

// Attr returns the spec of the attribute named name, or nil when the op
// does not take it.
func (o *OpInfo) Attr(name string) *AttrSpec {
	for i := range o.Attrs {
		if o.Attrs[i].Name == name {
			return &o.Attrs[i]
		}
	}
	return nil
}

// The attribute specs shared by several ops.
var (
	attrEps      = AttrSpec{Name: "eps", Kind: AttrFloat, Required: true}
	attrEpsOpt   = AttrSpec{Name: "eps", Kind: AttrFloat}
	ropeAttrs    = []AttrSpec{{"heads", AttrInt, true}, {"head_dim", AttrInt, true}, {"theta", AttrFloat, true}, {"layout", AttrString, true}}
	ropeAttrsOpt = []AttrSpec{{"heads", AttrInt, false}, {"head_dim", AttrInt, false}, {"theta", AttrFloat, false}, {"layout", AttrString, false}}
)

var opTable [numOps]OpInfo

func init() {
	opTable = [numOps]OpInfo{
		OpEmbed: {Name: "embed", Summary: "rows of a table (dequantized) picked by token ids",
			roles: fixedRoles([]string{"tokens"}, []string{"table"}), rule: embedRule},
		OpMatMul: {Name: "matmul", Summary: "x · wᵀ (+ bias), each output one float32 sum in input order",
			roles: fixedRoles([]string{"x"}, []string{"w"}, []string{"w", "bias"}), rule: matmulRule},
		OpRMSNorm: {Name: "rmsnorm", Summary: "w * (x / rms(x)) over the last axis", Attrs: []AttrSpec{attrEps},
			roles: fixedRoles([]string{"x"}, []string{"w"}), rule: rmsnormRule},
		OpRope: {Name: "rope", Summary: "rotary position embedding; row i is at position pos+i", Attrs: ropeAttrs,
			roles: fixedRoles([]string{"x", "pos"}, nil), rule: ropeRule},
		OpAttention: {Name: "attention", Summary: "writes k, v into the cache at pos.., then causal attention of q over it",
			Attrs:       []AttrSpec{{"heads", AttrInt, true}, {"kv_heads", AttrInt, true}, {"head_dim", AttrInt, true}},
			SideEffects: true,
			roles:       fixedRoles([]string{"q", "k", "v", "pos"}, []string{"kcache", "vcache"}), rule: attentionRule},
		OpSoftmax: {Name: "softmax", Summary: "softmax over the last axis",
			roles: fixedRoles([]string{"x"}, nil), rule: unaryRule(1)},
		OpSilu: {Name: "silu", Summary: "x * (1 / (1 + exp(-x))) elementwise",
			roles: fixedRoles([]string{"x"}, nil), rule: unaryRule(0)},
		OpGelu: {Name: "gelu", Summary: "0.5 * x * (1 + erf(x / sqrt(2))) elementwise",
			roles: fixedRoles([]string{"x"}, nil), rule: unaryRule(0)},
		OpMul: {Name: "mul", Summary: "a * b elementwise (same shapes, or one a scalar)",
			roles: fixedRoles([]string{"a", "b"}, nil), rule: binaryRule},
		OpAdd: {Name: "add", Summary: "a + b elementwise (same shapes, or one a scalar)",
			roles: fixedRoles([]string{"a", "b"}, nil), rule: binaryRule},
		OpReshape: {Name: "reshape", Summary: "same elements, new shape (0 keeps an input dim, -1 infers one)",
			Attrs: []AttrSpec{{"shape", AttrInts, true}},
			roles: fixedRoles([]string{"x"}, nil), rule: reshapeRule},
		OpSlice: {Name: "slice", Summary: "elements start..end-1 of one axis (negative counts from the end)",
			Attrs: []AttrSpec{{"axis", AttrInt, true}, {"start", AttrInt, true}, {"end", AttrInt, false}},
			roles: fixedRoles([]string{"x"}, nil), rule: sliceRule},
		OpTranspose: {Name: "transpose", Summary: "permutes the axes: result axis i is input axis perm[i]",
			Attrs: []AttrSpec{{"perm", AttrInts, true}},
			roles: fixedRoles([]string{"x"}, nil), rule: transposeRule},
		OpArgmax: {Name: "argmax", Summary: "index of the largest element of the last axis (first on ties)",
			roles: fixedRoles([]string{"x"}, nil), rule: argmaxRule},
		OpConst: {Name: "const", Summary: "a float32 scalar", Attrs: []AttrSpec{{"value", AttrFloat, true}},
			roles: fixedRoles(nil, nil), rule: constRule},

		OpRMSNormMatMul: {Name: "rmsnorm_matmul", Summary: "matmul(rmsnorm(x, norm), w [, bias])", Fused: true,
			Attrs: []AttrSpec{attrEps},
			roles: fixedRoles([]string{"x"}, []string{"norm", "w"}, []string{"norm", "w", "bias"}), rule: rmsnormMatmulRule},
		OpMatMulQKV: {Name: "matmul_qkv", Summary: "q, k, v projections of one input [rmsnorm prologue] [rope epilogue]", Fused: true,
			Attrs: append([]AttrSpec{attrEpsOpt, {"kv_heads", AttrInt, false}}, ropeAttrsOpt...),
			roles: qkvRoles, rule: qkvRule},
		OpMatMulGateUp: {Name: "matmul_gate_up", Summary: "silu(x·wg) * (x·wu) [rmsnorm prologue]", Fused: true,
			Attrs: []AttrSpec{attrEpsOpt},
			roles: gateUpRoles, rule: gateUpRule},
		OpMatMulRope: {Name: "matmul_rope", Summary: "rope(x·w [+ bias], pos) [rmsnorm prologue]", Fused: true,
			Attrs: append([]AttrSpec{attrEpsOpt}, ropeAttrs...),
			roles: matmulRopeRoles, rule: matmulRopeRule},
		OpMatMulAdd: {Name: "matmul_add", Summary: "x·w [+ bias] + residual", Fused: true,
			roles: fixedRoles([]string{"x", "residual"}, []string{"w"}, []string{"w", "bias"}), rule: matmulAddRule},
	}
}

// Info returns the op's table entry, or nil for an unknown op.
func (op Op) Info() *OpInfo {
	if op <= OpInvalid || op >= numOps {
		return nil
	}
	return &opTable[op]
}

// String returns the op's name as the text form spells it.
func (op Op) String() string {
	if info := op.Info(); info != nil {
		return info.Name
	}
	return "op(" + strconv.Itoa(int(op)) + ")"
}

// LookupOp returns the op named name.
func LookupOp(name string) (Op, bool) {
	for op := OpInvalid + 1; op < numOps; op++ {
		if opTable[op].Name == name {
			return op, true
		}
	}
	return OpInvalid, false
}

// Ops returns every op in table order.
func Ops() []Op {
	ops := make([]Op, 0, numOps-1)
	for op := OpInvalid + 1; op < numOps; op++ {
		ops = append(ops, op)
	}
	return ops
}

// HasSideEffects reports whether op writes state, so that an instruction of
// it must stay even when nothing uses its results.
func HasSideEffects(op Op) bool {
	info := op.Info()
	return info != nil && info.SideEffects
}

// HasSideEffects reports whether the instruction's op writes state.
func (in *Instr) HasSideEffects() bool { return HasSideEffects(in.Op) }

// Roles names the instruction's operands: args[i] is the role of Args[i]
// and refs[i] of Refs[i] (e.g. "x", "w", "bias", "norm", "kcache"). It
// fails when the operand counts fit no form of the op. Passes use it to
// tell a norm weight from a matrix or a bias.
func (in *Instr) Roles() (args, refs []string, err error) {
	info := in.Op.Info()
	if info == nil {
		return nil, nil, fmt.Errorf("unknown op %s", in.Op)
	}
	return info.roles(in)
}

// fixedRoles is the roles function of an op with fixed args and one of
// several ref lists told apart by their length.
func fixedRoles(args []string, refForms ...[]string) func(in *Instr) ([]string, []string, error) {
	return func(in *Instr) ([]string, []string, error) {
		if len(in.Args) != len(args) {
			return nil, nil, fmt.Errorf("%s takes %d value operands %v, got %d", opTable[in.Op].Name, len(args), args, len(in.Args))
		}
		forms := refForms
		if len(forms) == 0 {
			forms = [][]string{nil}
		}
		for _, f := range forms {
			if len(f) == len(in.Refs) {
				return args, f, nil
			}
		}
		return nil, nil, fmt.Errorf("%s takes @operands %s, got %d", opTable[in.Op].Name, formsString(forms), len(in.Refs))
	}
}

// formsString prints the alternatives of an operand list for an error.
func formsString(forms [][]string) string {
	s := ""
	for i, f := range forms {
		if i > 0 {
			s += " or "
		}
		s += fmt.Sprint(f)
	}
	return s
}

// withNorm prepends "norm" to each form when the instruction has an eps
// attribute: the optional rmsnorm prologue of the fused matmuls.
func withNorm(in *Instr, forms ...[]string) [][]string {
	if !in.Attrs.Has("eps") {
		return forms
	}
	out := make([][]string, len(forms))
	for i, f := range forms {
		out[i] = append([]string{"norm"}, f...)
	}
	return out
}

// qkvRoles: matmul_qkv(x [, pos]; [norm,] wq, wk, wv [, bq, bk, bv]); pos
// is present exactly when the rope attributes are.
func qkvRoles(in *Instr) ([]string, []string, error) {
	args := []string{"x"}
	if in.Attrs.Has("theta") {
		args = append(args, "pos")
	}
	return fixedRoles(args, withNorm(in, []string{"wq", "wk", "wv"}, []string{"wq", "wk", "wv", "bq", "bk", "bv"})...)(in)
}

// gateUpRoles: matmul_gate_up(x; [norm,] wg, wu [, bg, bu]).
func gateUpRoles(in *Instr) ([]string, []string, error) {
	return fixedRoles([]string{"x"}, withNorm(in, []string{"wg", "wu"}, []string{"wg", "wu", "bg", "bu"})...)(in)
}

// matmulRopeRoles: matmul_rope(x, pos; [norm,] w [, bias]).
func matmulRopeRoles(in *Instr) ([]string, []string, error) {
	return fixedRoles([]string{"x", "pos"}, withNorm(in, []string{"w"}, []string{"w", "bias"})...)(in)
}

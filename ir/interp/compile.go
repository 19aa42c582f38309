package interp

import (
	"fmt"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/kernels"
)

// operands are an instruction's operands by role (the op table's names:
// "x", "w", "bias", "norm", "kcache", ...).
type operands struct {
	ip   *Interp
	in   *ir.Instr
	args map[string]*slot
	refs map[string]string
}

// mat returns the matrix weight in role (nil when the instruction has no
// operand in that role).
func (o *operands) mat(role string) (*kernels.Matrix, error) {
	name, ok := o.refs[role]
	if !ok {
		return nil, nil
	}
	m := o.ip.w.mats[name]
	if m == nil {
		return nil, fmt.Errorf("%s @%s is not a loaded rank-2 weight", role, name)
	}
	return m, nil
}

// vec returns the vector weight in role (nil when absent).
func (o *operands) vec(role string) ([]float32, error) {
	name, ok := o.refs[role]
	if !ok {
		return nil, nil
	}
	v, ok := o.ip.w.vecs[name]
	if !ok {
		return nil, fmt.Errorf("%s @%s is not a loaded rank-1 weight", role, name)
	}
	return v, nil
}

// ropeSpec is the attributes of a rotary embedding.
type ropeSpec struct {
	heads, headDim int
	theta          float32
	layout         string
}

// ropeOf reads a rope's attributes, the head count from headsAttr ("heads",
// or "kv_heads" for the k of matmul_qkv).
func ropeOf(a ir.Attrs, headsAttr string) ropeSpec {
	var r ropeSpec
	r.heads, _ = a.Int(headsAttr)
	r.headDim, _ = a.Int("head_dim")
	r.theta, _ = a.Float("theta")
	r.layout, _ = a.Str("layout")
	return r
}

// compileInstr returns the step that executes in, reading args and writing
// res.
func (ip *Interp) compileInstr(in *ir.Instr, args, res []*slot) (func() error, error) {
	argRoles, refRoles, err := in.Roles()
	if err != nil {
		return nil, err
	}
	o := &operands{ip: ip, in: in, args: map[string]*slot{}, refs: map[string]string{}}
	for i, r := range argRoles {
		o.args[r] = args[i]
	}
	for i, r := range refRoles {
		o.refs[r] = in.Refs[i]
	}
	if info := in.Op.Info(); info != nil && info.Fused {
		return ip.compileFused(o, res)
	}
	out := res[0]
	x := o.args["x"]
	switch in.Op {
	case ir.OpEmbed:
		tab, err := o.mat("table")
		if err != nil {
			return nil, err
		}
		tok := o.args["tokens"]
		return func() error {
			if err := checkTokens(tok.i, tab.Rows()); err != nil {
				return err
			}
			out.alloc()
			d := tab.Cols()
			for i, id := range tok.i {
				tab.Row(int(id), out.f[i*d:(i+1)*d])
			}
			return nil
		}, nil

	case ir.OpMatMul:
		w, err := o.mat("w")
		if err != nil {
			return nil, err
		}
		bias, err := o.vec("bias")
		if err != nil {
			return nil, err
		}
		return func() error {
			out.alloc()
			matmul(out.f, x.f, x.shape[0], w, bias)
			return nil
		}, nil

	case ir.OpRMSNorm:
		w, err := o.vec("w")
		if err != nil {
			return nil, err
		}
		eps, _ := in.Attrs.Float("eps")
		return func() error {
			out.alloc()
			rmsnormRows(out.f, x.f, w, eps)
			return nil
		}, nil

	case ir.OpRope:
		r := ropeOf(in.Attrs, "heads")
		pos := o.args["pos"]
		return func() error {
			out.alloc()
			copy(out.f, x.f)
			return ip.rope(out.f, x.shape[0], int(pos.i[0]), r)
		}, nil

	case ir.OpAttention:
		return ip.compileAttention(o, out)

	case ir.OpSoftmax:
		return func() error {
			out.alloc()
			copy(out.f, x.f)
			if d := x.shape[len(x.shape)-1]; d > 0 {
				for i := 0; i+d <= len(out.f); i += d {
					kernels.Softmax(out.f[i : i+d])
				}
			}
			return nil
		}, nil

	case ir.OpSilu:
		return func() error {
			out.alloc()
			copy(out.f, x.f)
			kernels.SiLU(out.f)
			return nil
		}, nil

	case ir.OpGelu:
		return func() error {
			out.alloc()
			for i, v := range x.f {
				out.f[i] = gelu(v)
			}
			return nil
		}, nil

	case ir.OpMul, ir.OpAdd:
		a, b := o.args["a"], o.args["b"]
		add := in.Op == ir.OpAdd
		return func() error {
			out.alloc()
			elementwise(out.f, a.f, b.f, add)
			return nil
		}, nil

	case ir.OpReshape:
		// Same elements in the same order: the result shares the input's
		// memory (no op writes into its operands).
		return func() error {
			out.f, out.i = x.f, x.i
			return nil
		}, nil

	case ir.OpSlice:
		axis, _ := in.Attrs.Int("axis")
		start, _ := in.Attrs.Int("start")
		end, hasEnd := in.Attrs.Int("end")
		return func() error {
			n := x.shape[axis]
			s, e := start, n
			if hasEnd {
				e = end
			}
			if s < 0 {
				s += n
			}
			if e < 0 {
				e += n
			}
			if s < 0 || e > n || s > e || e-s != out.shape[axis] {
				return omexerr.Executionf("execution.bad_slice", "start=%d end=%d do not fit axis %d of %%%s, of length %d", start, end, axis, x.name, n)
			}
			out.alloc()
			if x.elem == ir.I32 {
				sliceCopy(out.i, x.i, x.shape, axis, s, e)
			} else {
				sliceCopy(out.f, x.f, x.shape, axis, s, e)
			}
			return nil
		}, nil

	case ir.OpTranspose:
		perm, _ := in.Attrs.Ints("perm")
		return func() error {
			out.alloc()
			if x.elem == ir.I32 {
				transposeCopy(out.i, x.i, x.shape, perm)
			} else {
				transposeCopy(out.f, x.f, x.shape, perm)
			}
			return nil
		}, nil

	case ir.OpArgmax:
		return func() error {
			d := x.shape[len(x.shape)-1]
			if d == 0 && out.n > 0 {
				return omexerr.Executionf("execution.empty_argmax", "argmax over an empty last axis of %%%s", x.name)
			}
			out.alloc()
			for r := range out.i {
				out.i[r] = int32(argmax(x.f[r*d : (r+1)*d]))
			}
			return nil
		}, nil

	case ir.OpConst:
		v, _ := in.Attrs.Float("value")
		return func() error {
			out.alloc()
			out.f[0] = v
			return nil
		}, nil
	}
	return nil, fmt.Errorf("the interpreter cannot execute %s", in.Op)
}

// checkTokens reports a token id outside the table's rows.
func checkTokens(ids []int32, vocab int) error {
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return omexerr.Inputf("input.token_out_of_vocab", "token %d (id %d) is outside the vocabulary (0..%d)", i, id, vocab-1)
		}
	}
	return nil
}

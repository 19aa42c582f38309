package interp_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// fuzzLimit bounds the elements of the weights, state and arguments a
// fuzzed module may ask for, so the target explores logic, not memory.
const fuzzLimit = 1 << 16

// FuzzCall parses IR text and, when it verifies, runs every function of it
// on random weights and arguments (rows from seq, start position pos),
// twice in a row so the second call sees the state the first left. New and
// Call may refuse with an OMEX error; they must never panic or return an
// error outside the family.
func FuzzCall(f *testing.F) {
	cfg := model.Config{Dim: 32, Hidden: 64, Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 8, Vocab: 16, SeqLen: 8,
		RopeTheta: 10000, RopeLayout: model.RopeHalfSplit, NormEps: 1e-5, QKVBias: true}
	llama := ir.Print(lowerLlama(f, cfg, llamaWeights(cfg, 1, mixedForms).get))
	f.Add(llama, uint8(3), int16(0), uint64(1))
	f.Add(llama, uint8(1), int16(7), uint64(2))
	f.Add(llama, uint8(0), int16(-1), uint64(3))
	f.Add(fuzzOps, uint8(2), int16(1), uint64(4))
	f.Add(fuzzOps, uint8(0), int16(3), uint64(5))
	f.Fuzz(func(t *testing.T, text string, seq uint8, pos int16, seed uint64) {
		m, err := ir.Parse(text)
		if err != nil || ir.Verify(m) != nil {
			return
		}
		sizes := m.Sizes()
		total := int64(0)
		for _, d := range append(append([]ir.Type{}, weightTypes(m)...), stateTypes(m)...) {
			n, err := d.Elements(sizes)
			if err != nil {
				return
			}
			if total += n; total > fuzzLimit {
				return
			}
		}
		r := rand.New(rand.NewPCG(seed, 1))
		ip, err := interp.New(m, func(name string) (*tensor.Tensor, error) { return fuzzWeight(m, r, name) })
		if err != nil {
			if _, ok := omexerr.As(err); !ok {
				t.Fatalf("New: error outside the family: %v", err)
			}
			return
		}
		for _, fn := range m.Funcs {
			args, ok := fuzzArgs(fn, sizes, int(seq), int(pos), r)
			if !ok {
				continue
			}
			for range 2 {
				if _, err := ip.Call(fn.Name, args...); err != nil {
					if _, ok := omexerr.As(err); !ok {
						t.Fatalf("Call @%s: error outside the family: %v", fn.Name, err)
					}
				}
			}
		}
	})
}

func weightTypes(m *ir.Module) []ir.Type {
	var ts []ir.Type
	for _, w := range m.Weights {
		ts = append(ts, w.Type)
	}
	return ts
}

func stateTypes(m *ir.Module) []ir.Type {
	var ts []ir.Type
	for _, s := range m.States {
		ts = append(ts, s.Type)
	}
	return ts
}

// fuzzWeight makes random data of a weight's declared shape, in f32 (the
// interpreter converts it to the declared dtype).
func fuzzWeight(m *ir.Module, r *rand.Rand, name string) (*tensor.Tensor, error) {
	w := m.Weight(name)
	shape, err := w.Type.ShapeIn(m.Sizes())
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	return f32Tensor(name, randVals(r, n, 1), shape...), nil
}

// fuzzArgs makes arguments for fn: free symbols are seq rows, i32 scalars
// are pos, other i32 elements small token ids, f32 random. It reports false
// when the arguments would be too large.
func fuzzArgs(fn *ir.Func, sizes ir.Sizes, seq, pos int, r *rand.Rand) ([]interp.Value, bool) {
	var args []interp.Value
	total := 0
	for _, p := range fn.Params {
		shape := make([]int, p.Type.Rank())
		n := 1
		for i, d := range p.Type.Shape {
			switch {
			case d.IsConst():
				shape[i] = d.N
			case sizes[d.Sym] > 0:
				shape[i] = sizes[d.Sym]
			default:
				shape[i] = seq
			}
			if shape[i] > fuzzLimit {
				return nil, false
			}
			n *= shape[i]
		}
		if total += n; n > fuzzLimit || total > fuzzLimit {
			return nil, false
		}
		switch {
		case p.Type.Elem == ir.I32 && p.Type.Rank() == 0:
			args = append(args, interp.Scalar(pos))
		case p.Type.Elem == ir.I32:
			ids := make([]int32, n)
			for i := range ids {
				ids[i] = int32(r.IntN(20)) - 2
			}
			args = append(args, interp.I32Value(ids, shape...))
		default:
			args = append(args, interp.F32Value(randVals(r, n, 1), shape...))
		}
	}
	return args, true
}

// fuzzOps is a seed that uses every op but attention and the Llama ones.
const fuzzOps = `module "ops"

dim ctx = 4

weight @w : q4_0[4,32]
weight @n : f32[32]
weight @b : f32[4]
state @kc : f32[ctx,8]
state @vc : f32[ctx,8]

func @f(%x: f32[seq,32], %t: i32[seq], %pos: i32[], %s: f32[]) -> f32[seq,4], i32[seq], f32[3,2], f32[1,4], f32[seq,8] {
  %0 = rmsnorm_matmul %x, @n, @w, @b {eps=1e-05} : f32[seq,4]
  %1 = softmax %0 : f32[seq,4]
  %2 = gelu %1 : f32[seq,4]
  %3 = mul %2, %s : f32[seq,4]
  %4 = argmax %3 : i32[seq]
  %5 = const {value=2.5} : f32[]
  %6 = reshape %x {shape=[0,4,8]} : f32[seq,4,8]
  %7 = transpose %6 {perm=[1,0,2]} : f32[4,seq,8]
  %8 = slice %7 {axis=0, start=1} : f32[3,seq,8]
  %9 = slice %8 {axis=1, start=0, end=2} : f32[3,2,8]
  %10 = slice %9 {axis=2, start=-2} : f32[3,2,2]
  %11 = slice %10 {axis=2, start=0, end=1} : f32[3,2,1]
  %12 = reshape %11 {shape=[3,2]} : f32[3,2]
  %13 = slice %1 {axis=0, start=-1} : f32[1,4]
  %14 = add %13, %5 : f32[1,4]
  %15 = slice %x {axis=1, start=0, end=8} : f32[seq,8]
  %16 = attention %15, %15, %15, %pos, @kc, @vc {head_dim=4, heads=2, kv_heads=2} : f32[seq,8]
  return %3, %4, %12, %14, %16
}
`

// TestFuzzOpsSeed checks that the hand-written seed parses, verifies and
// runs, so the fuzzer starts from a module that reaches every step.
func TestFuzzOpsSeed(t *testing.T) {
	m, err := ir.Parse(fuzzOps)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	ip := newInterp(t, m, func(name string) (*tensor.Tensor, error) { return fuzzWeight(m, r, name) })
	args, ok := fuzzArgs(m.Func("f"), m.Sizes(), 3, 0, r)
	if !ok {
		t.Fatal("no arguments")
	}
	args[1] = interp.Tokens(1, 2, 3)
	out, err := ip.Call("f", args...)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, v := range out {
		types = append(types, v.TypeString())
	}
	if got, want := strings.Join(types, " "), "f32[3,4] i32[3] f32[3,2] f32[1,4] f32[3,8]"; got != want {
		t.Errorf("results %s, want %s", got, want)
	}
}

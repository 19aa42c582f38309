package passes

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/tensor"
)

// Property tests of the exact passes on random graphs: a byte string picks
// a straight-line program over f32[seq,8] values (matmuls with and without
// bias or prologue, rmsnorm, silu, mul, add, rope, attention, consts that
// are identities or not, transpose and reshape round trips, gated
// feed-forwards and attention blocks), with values used once or
// many times and some returned. Every exact pass alone and the whole run of
// them must keep the module valid and the interpreter's results bit for
// bit, on two calls that share the KV cache. Real models only show the
// patterns the lowering emits; these graphs show the passes the odd ones.

// randomGraphModule builds the module the bytes describe.
func randomGraphModule(prog []byte) (*ir.Module, error) {
	m := ir.NewModule("random")
	if err := m.AddDim("ctx", 16); err != nil {
		return nil, err
	}
	for _, w := range []struct {
		name string
		t    ir.Type
	}{
		{"norm", ir.T(ir.F32, ir.C(8))}, {"norm2", ir.T(ir.F32, ir.C(8))},
		{"wa", ir.T(ir.F32, ir.C(8), ir.C(8))}, {"wb", ir.T(ir.F16, ir.C(8), ir.C(8))},
		{"wc", ir.T(ir.F32, ir.C(8), ir.C(8))}, {"bias", ir.T(ir.F32, ir.C(8))},
	} {
		if _, err := m.AddWeight(w.name, w.t); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 3; i++ {
		for _, kv := range []string{"k", "v"} {
			if _, err := m.AddState(fmt.Sprintf("%s%d", kv, i), ir.T(ir.F32, ir.S("ctx"), ir.C(8))); err != nil {
				return nil, err
			}
		}
	}
	f, err := m.AddFunc("f")
	if err != nil {
		return nil, err
	}
	b := ir.NewBuilder(m, f)
	x := b.Param("x", ir.T(ir.F32, ir.S("seq"), ir.C(8)))
	pos := b.Param("pos", ir.T(ir.I32))
	vals := []*ir.Value{x}
	next := 0
	byteAt := func() int {
		if next >= len(prog) {
			return 0
		}
		next++
		return int(prog[next-1])
	}
	pick := func() *ir.Value { return vals[len(vals)-1-byteAt()%min(len(vals), 4)] }
	weight := func() string { return []string{"wa", "wb", "wc"}[byteAt()%3] }
	rope := ir.Rope{Heads: 2, HeadDim: 4, Theta: 10000, Layout: ir.RopeInterleaved}
	attentions := 0
	for next < len(prog) && len(f.Body) < 64 {
		var v *ir.Value
		switch op := byteAt() % 14; op {
		case 0:
			v = b.MatMul(pick(), weight())
		case 1:
			v = b.MatMul(pick(), weight(), "bias")
		case 2:
			v = b.RMSNorm(pick(), []string{"norm", "norm2"}[byteAt()%2], []float32{1e-5, 1e-6}[byteAt()%2])
		case 3:
			v = b.Silu(pick())
		case 4:
			v = b.Mul(pick(), pick())
		case 5:
			v = b.Add(pick(), pick())
		case 6:
			v = b.Rope(pick(), pos, rope)
		case 7:
			if attentions == 3 {
				continue
			}
			v = b.Attention(pick(), pick(), pick(), pos, fmt.Sprintf("k%d", attentions), fmt.Sprintf("v%d", attentions), 2, 2, 4)
			attentions++
		case 8:
			c := b.Const([]float32{1, float32(math.Copysign(0, -1)), 0, 2}[byteAt()%4])
			if byteAt()%2 == 0 {
				v = b.Mul(pick(), c)
			} else {
				v = b.Add(c, pick())
			}
		case 9:
			v = b.Transpose(b.Transpose(pick(), 1, 0), 1, 0)
		case 10:
			v = b.RMSNormMatMul(pick(), "norm", 1e-5, weight())
		case 11:
			v = b.Reshape(b.Reshape(pick(), 0, 2, 4), 0, -1)
		case 12: // a gated feed-forward, maybe with its operands swapped
			h := pick()
			g, u := b.MatMul(h, weight()), b.MatMul(h, weight())
			if byteAt()%2 == 0 {
				v = b.Mul(b.Silu(g), u)
			} else {
				v = b.Mul(u, b.Silu(g))
			}
		case 13: // an attention block, with or without ropes
			if attentions == 3 {
				continue
			}
			h := pick()
			q, k, vv := b.MatMul(h, weight()), b.MatMul(h, weight()), b.MatMul(h, weight())
			if byteAt()%2 == 0 {
				q, k = b.Rope(q, pos, rope), b.Rope(k, pos, rope)
			}
			v = b.Attention(q, k, vv, pos, fmt.Sprintf("k%d", attentions), fmt.Sprintf("v%d", attentions), 2, 2, 4)
			attentions++
			vals = append(vals, q, k)
		}
		if v != nil {
			vals = append(vals, v)
		}
	}
	results := []*ir.Value{vals[len(vals)-1]}
	if len(vals) > 2 {
		results = append(results, vals[1+byteAt()%(len(vals)-1)])
	}
	b.Return(results...)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return m, ir.Verify(m)
}

// randomGraphWeights fills the random graph's weights with small values.
func randomGraphWeights() func(string) (*tensor.Tensor, error) {
	r := rand.New(rand.NewPCG(1, 2))
	store := map[string]*tensor.Tensor{}
	add := func(name string, dt tensor.DType, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var data []byte
		for i := 0; i < n; i++ {
			v := float32(r.NormFloat64() * 0.5)
			if dt == tensor.F16 {
				data = binary.LittleEndian.AppendUint16(data, tensor.F32ToF16(v))
			} else {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
		store[name] = &tensor.Tensor{Name: name, DType: dt, Shape: shape, Data: data}
	}
	add("norm", tensor.F32, 8)
	add("norm2", tensor.F32, 8)
	add("wa", tensor.F32, 8, 8)
	add("wb", tensor.F16, 8, 8)
	add("wc", tensor.F32, 8, 8)
	add("bias", tensor.F32, 8)
	return func(name string) (*tensor.Tensor, error) {
		if t, ok := store[name]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("no weight %s", name)
	}
}

// randomGraphRun calls @f twice (3 rows at 0, then 2 rows at 3, so the
// second call reads the first one's KV cache) and returns every result.
func randomGraphRun(m *ir.Module, weights func(string) (*tensor.Tensor, error)) ([][]float32, error) {
	ip, err := interp.New(m, weights)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(3, 4))
	var outs [][]float32
	for _, call := range []struct{ rows, pos int }{{3, 0}, {2, 3}} {
		x := make([]float32, call.rows*8)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		res, err := ip.Call("f", interp.F32Value(x, call.rows, 8), interp.Scalar(call.pos))
		if err != nil {
			return nil, err
		}
		for _, v := range res {
			outs = append(outs, v.F32)
		}
	}
	return outs, nil
}

// checkRandomGraph runs the exact passes on the graph prog describes and
// reports any change of result bits. It counts, in acted (when not nil),
// the passes that changed something when run alone.
func checkRandomGraph(t *testing.T, prog []byte, ps []Pass, weights func(string) (*tensor.Tensor, error), acted map[string]int) {
	m, err := randomGraphModule(prog)
	if err != nil {
		return // the bytes picked operands of the wrong shape: no graph
	}
	want, err := randomGraphRun(m, weights)
	if err != nil {
		t.Fatalf("the unoptimized graph does not run: %v\n%s", err, ir.Print(m))
	}
	variants := [][]Pass{ps}
	for _, p := range ps {
		variants = append(variants, []Pass{p})
	}
	for _, v := range variants {
		res := runPasses(t, m, v...)
		if acted != nil && len(v) == 1 && len(res.Findings) > 0 {
			acted[v[0].Name]++
		}
		got, err := randomGraphRun(res.Module, weights)
		if err != nil {
			t.Fatalf("after %s the graph does not run: %v", passNames(v), err)
		}
		for i := range want {
			for j := range want[i] {
				if math.Float32bits(want[i][j]) != math.Float32bits(got[i][j]) {
					t.Fatalf("%s changed result %d element %d: %v, want %v\nbefore:\n%s\nafter:\n%s",
						passNames(v), i, j, got[i][j], want[i][j], ir.Print(m), ir.Print(res.Module))
				}
			}
		}
	}
}

func passNames(ps []Pass) string {
	if len(ps) == 1 {
		return ps[0].Name
	}
	return fmt.Sprintf("the %d exact passes", len(ps))
}

func TestRandomGraphsBitIdentical(t *testing.T) {
	ps := exactPasses(t)
	weights := randomGraphWeights()
	r := rand.New(rand.NewPCG(5, 6))
	built, acted := 0, map[string]int{}
	for i := 0; i < 300; i++ {
		prog := make([]byte, 20+r.IntN(60))
		for j := range prog {
			prog[j] = byte(r.UintN(256))
		}
		if _, err := randomGraphModule(prog); err == nil {
			built++
		}
		checkRandomGraph(t, prog, ps, weights, acted)
	}
	if built < 100 {
		t.Errorf("only %d of 300 byte strings made a graph: the generator needs fixing", built)
	}
	t.Logf("%d graphs; graphs each pass changed: %v", built, acted)
	for _, p := range ps {
		if acted[p.Name] == 0 {
			t.Errorf("%s changed none of the random graphs: its check here is vacuous", p.Name)
		}
	}
}

// FuzzRandomGraphs is TestRandomGraphsBitIdentical driven by the fuzzer.
func FuzzRandomGraphs(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 1, 3, 0, 1, 4, 0, 1})
	f.Add([]byte{2, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 6, 1, 6, 2, 7, 0, 0, 0, 5, 0, 1})
	f.Add([]byte{8, 0, 0, 0, 8, 1, 1, 0, 9, 0, 11, 0, 4, 0, 1})
	weights := randomGraphWeights()
	var ps []Pass
	for _, p := range Pipeline() {
		for _, n := range exactPassNames {
			if p.Name == n {
				ps = append(ps, p)
			}
		}
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 200 {
			return
		}
		checkRandomGraph(t, prog, ps, weights, nil)
	})
}

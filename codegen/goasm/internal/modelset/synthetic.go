package modelset

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/tensor"
)

// opsModule is a small decoder in IR text whose @decode uses the ops and
// weight types the real models do not: plain (unfused) matmul with a bias,
// rmsnorm, half-split rope, silu, mul and add (with a scalar const),
// gelu, softmax, reshape and slice; f16, bf16, q8_0 and q4_0 matrices.
// Its weights are synthetic (SyntheticWeights).
const opsModule = `module "ops"

dim ctx = 24

weight @emb : f32[40,32]
weight @norm : f32[32]
weight @wq : q8_0[32,32]
weight @bq : f32[32]
weight @wk : f16[16,32]
weight @wv : bf16[16,32]
weight @wo : q4_0[32,32]

state @kc : f32[ctx,16]
state @vc : f32[ctx,16]

func @decode(%token: i32[1], %pos: i32[]) -> f32[1,40] {
  %x = embed %token, @emb : f32[1,32]
  %h = rmsnorm %x, @norm {eps=1e-05} : f32[1,32]
  %q = matmul %h, @wq, @bq : f32[1,32]
  %k = matmul %h, @wk : f32[1,16]
  %v = matmul %h, @wv : f32[1,16]
  %qr = rope %q, %pos {head_dim=4, heads=8, layout="half_split", theta=500000.0} : f32[1,32]
  %kr = rope %k, %pos {head_dim=4, heads=4, layout="half_split", theta=500000.0} : f32[1,16]
  %a = attention %qr, %kr, %v, %pos, @kc, @vc {head_dim=4, heads=8, kv_heads=4} : f32[1,32]
  %o = matmul %a, @wo : f32[1,32]
  %s = silu %o : f32[1,32]
  %g = gelu %x : f32[1,32]
  %m = mul %s, %g : f32[1,32]
  %c = const {value=0.5} : f32[]
  %ms = mul %m, %c : f32[1,32]
  %r = add %ms, %x : f32[1,32]
  %l = matmul %r, @emb : f32[1,40]
  %p = softmax %l : f32[1,40]
  %p2 = reshape %p {shape=[1,40]} : f32[1,40]
  %y = slice %p2 {axis=0, start=-1} : f32[1,40]
  return %y
}
`

// irSources are the IR-text models by name.
var irSources = map[string]string{"ops": opsModule}

// compileIR parses an IR-text model and runs only layout and memplan on
// it, so its unfused ops stay as written.
func compileIR(src, target string) (*ir.Module, error) {
	m, err := ir.Parse(src)
	if err != nil {
		return nil, err
	}
	var pl []passes.Pass
	for _, name := range []string{"layout", "memplan"} {
		p, ok := passes.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("modelset: no %s pass", name)
		}
		pl = append(pl, p)
	}
	mg, err := passes.New(pl, passes.Options{Target: target})
	if err != nil {
		return nil, err
	}
	res, err := mg.Run(context.Background(), m)
	if err != nil {
		return nil, err
	}
	return res.Module, nil
}

// SyntheticWeights returns a reader of reproducible random weights for
// every weight m declares, in its declared type and row-major: values
// N(0, 0.5) seeded by the weight's name, quantized with tensor.Convert.
func SyntheticWeights(m *ir.Module) func(string) (*tensor.Tensor, error) {
	return func(name string) (*tensor.Tensor, error) {
		w := m.Weight(name)
		if w == nil {
			return nil, fmt.Errorf("no weight %s", name)
		}
		shape, err := w.Type.ShapeIn(m.Sizes())
		if err != nil {
			return nil, err
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(h.Sum64(), 7))
		t := &tensor.Tensor{Name: name, DType: tensor.F32, Shape: shape, Data: make([]byte, 4*n)}
		for i := range n {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(float32(rng.NormFloat64()*0.5)))
		}
		dt, _ := w.Type.Elem.DType()
		if dt == tensor.F32 {
			return t, nil
		}
		return tensor.Convert(t, dt)
	}
}

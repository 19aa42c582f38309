package lower_test

import (
	"testing"

	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// FuzzLower lowers arbitrary configurations with tensors of the implied
// shapes (and one tensor's dtype or shape changed): Lower must return a
// module that verifies and round-trips, or a ModelError, never panic.
func FuzzLower(f *testing.F) {
	f.Add(64, 72, 2, 8, 2, 8, 100, 32, float32(1e6), float32(1e-6), uint8(0b111), uint16(0), uint8(0), int8(0))
	f.Add(64, 172, 5, 8, 4, 8, 512, 512, float32(1e4), float32(1e-5), uint8(0b1000), uint16(3), uint8(3), int8(1))
	f.Add(128, 384, 2, 8, 4, 16, 2048, 2048, float32(1e4), float32(1e-6), uint8(0b1000), uint16(7), uint8(4), int8(-1))
	f.Fuzz(func(t *testing.T, dim, hidden, layers, heads, kvHeads, headDim, vocab, seqLen int, theta, eps float32, flags uint8, which uint16, dtype uint8, shapeDelta int8) {
		// Keep the module small enough to build quickly; the sizes only
		// appear in types, so large dims cost nothing.
		if layers > 8 {
			return
		}
		cfg := model.Config{Dim: dim, Hidden: hidden, Layers: layers, Heads: heads, KVHeads: kvHeads, HeadDim: headDim,
			Vocab: vocab, SeqLen: seqLen, RopeTheta: theta, NormEps: eps,
			QKVBias: flags&1 != 0, OutputBias: flags&2 != 0, Tied: flags&4 != 0, RopeLayout: model.RopeInterleaved}
		if flags&8 != 0 {
			cfg.RopeLayout = model.RopeHalfSplit
		}
		var src *memSource
		if cfg.Validate() == nil {
			src = newMemSource(cfg)
		} else {
			src = &memSource{cfg: cfg}
		}
		if n := len(src.infos); n > 0 {
			ti := &src.infos[int(which)%n]
			ti.DType = tensor.DType(dtype % 6)
			if shapeDelta != 0 {
				ti.Shape = append([]int(nil), ti.Shape...)
				ti.Shape[len(ti.Shape)-1] += int(shapeDelta)
			}
		}
		m, err := lower.Lower(src)
		if err != nil {
			if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Model {
				t.Fatalf("not a ModelError: %v", err)
			}
			return
		}
		text := ir.Print(m)
		m2, err := ir.Parse(text)
		if err != nil {
			t.Fatalf("printed module does not parse: %v", err)
		}
		if ir.Print(m2) != text {
			t.Fatal("round trip changed the text")
		}
	})
}

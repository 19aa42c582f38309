package lower_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

func openT(t *testing.T, path, tok string) frontend.Source {
	t.Helper()
	src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// roundTrip checks that m verifies, prints, parses back, verifies again
// and prints the same bytes.
func roundTrip(t *testing.T, m *ir.Module) string {
	t.Helper()
	if err := ir.Verify(m); err != nil {
		t.Fatalf("verify: %v", err)
	}
	text := ir.Print(m)
	m2, err := ir.Parse(text)
	if err != nil {
		t.Fatalf("parse of the printed module: %v", err)
	}
	if err := ir.Verify(m2); err != nil {
		t.Fatalf("verify of the parsed module: %v", err)
	}
	if again := ir.Print(m2); again != text {
		t.Fatalf("round trip changed the text")
	}
	return text
}

// checkModule checks the structure Lower promises for src's model.
func checkModule(t *testing.T, src frontend.Source, m *ir.Module) {
	t.Helper()
	cfg := src.Config()
	if m.Name != src.Meta().Name {
		t.Errorf("module named %q, model %q", m.Name, src.Meta().Name)
	}
	if n, ok := m.DimValue("ctx"); !ok || n != cfg.SeqLen {
		t.Errorf("ctx = %d (%v), want %d", n, ok, cfg.SeqLen)
	}
	stored := map[string]tensor.Info{}
	for _, ti := range src.Tensors() {
		stored[ti.Name] = ti
	}
	for _, w := range m.Weights {
		ti, ok := stored[w.Name]
		if !ok {
			t.Errorf("weight @%s is not a tensor of the model", w.Name)
			continue
		}
		if e, _ := ir.ElemOf(ti.DType); w.Type.Elem != e || w.Type.String() != fmt.Sprintf("%s%s", e, strings.ReplaceAll(fmt.Sprint(ti.Shape), " ", ",")) {
			t.Errorf("weight @%s : %s, stored as %s %v", w.Name, w.Type, ti.DType, ti.Shape)
		}
	}
	want := 2 + 9*cfg.Layers // embedding, final norm, nine per layer
	if !cfg.Tied {
		want++
	}
	if cfg.QKVBias {
		want += 3 * cfg.Layers
	}
	if cfg.OutputBias {
		want += cfg.Layers
	}
	if len(m.Weights) != want {
		t.Errorf("%d weights declared, want %d", len(m.Weights), want)
	}
	if len(m.States) != 2*cfg.Layers {
		t.Errorf("%d states, want %d", len(m.States), 2*cfg.Layers)
	}
	kv := fmt.Sprintf("f32[ctx,%d]", cfg.KVHeads*cfg.HeadDim)
	for l := 0; l < cfg.Layers; l++ {
		for _, s := range []string{lower.KState(l), lower.VState(l)} {
			if st := m.State(s); st == nil || st.Type.String() != kv {
				t.Errorf("state @%s missing or not %s", s, kv)
			}
		}
	}
	for _, f := range []struct{ name, sig string }{
		{lower.Prefill, fmt.Sprintf("(tokens i32[seq], pos i32[]) -> f32[seq,%d]", cfg.Vocab)},
		{lower.Decode, fmt.Sprintf("(token i32[1], pos i32[]) -> f32[1,%d]", cfg.Vocab)},
	} {
		fn := m.Func(f.name)
		if fn == nil {
			t.Fatalf("no function %s", f.name)
		}
		if got := signature(fn); got != f.sig {
			t.Errorf("%s%s, want %s", f.name, got, f.sig)
		}
		// embed, 16 ops per layer, final norm, classifier.
		if want := 3 + 16*cfg.Layers; len(fn.Body) != want {
			t.Errorf("%s has %d instructions, want %d", f.name, len(fn.Body), want)
		}
		last := fn.Body[len(fn.Body)-1]
		cls := model.Output
		if cfg.Tied {
			cls = model.TokenEmbd
		}
		if last.Op != ir.OpMatMul || last.Refs[0] != cls {
			t.Errorf("%s ends with %s %v, want the classifier matmul on @%s", f.name, last.Op, last.Refs, cls)
		}
	}
}

// signature prints a function's parameter and result types.
func signature(f *ir.Func) string {
	var ps []string
	for _, p := range f.Params {
		ps = append(ps, p.Name+" "+p.Type.String())
	}
	var rs []string
	for _, r := range f.ResultTypes() {
		rs = append(rs, r.String())
	}
	return "(" + strings.Join(ps, ", ") + ") -> " + strings.Join(rs, ", ")
}

// importT imports src into a temporary package and opens that package, so
// the lowering reads the configuration back from graph.json.
func importT(t *testing.T, src frontend.Source) frontend.Source {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pkg.omex")
	if err := importer.Import(src, dir, importer.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return openT(t, dir, "")
}

// TestLowerRealModels lowers every real model input, and a package imported
// from each, and checks the modules verify, round-trip through the text form
// and have the structure the configuration implies.
func TestLowerRealModels(t *testing.T) {
	td := testfiles.Shared(t)
	s260 := filepath.Join(td, "models", "stories260K")
	tiny := filepath.Join(td, "models", "tinystories-656k")
	for _, c := range []struct{ name, path, tok string }{
		{"stories260K.bin", filepath.Join(s260, "stories260K.bin"), filepath.Join(s260, "tok512.bin")},
		{"stories260K_q80.bin", filepath.Join(s260, "stories260K_q80.bin"), filepath.Join(s260, "tok512.bin")},
		{"stories260K.gguf", filepath.Join(s260, "stories260K.gguf"), ""},
		{"tinystories safetensors", tiny, ""},
		{"tinystories f16.gguf", filepath.Join(tiny, "TinyStories-656K.f16.gguf"), ""},
		{"tinystories q8_0.gguf", filepath.Join(tiny, "tinystories-656k-q8_0.gguf"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := openT(t, c.path, c.tok)
			for _, s := range []struct {
				how string
				src frontend.Source
			}{{"direct", src}, {"package", importT(t, src)}} {
				m, err := lower.Lower(s.src)
				if err != nil {
					t.Fatalf("%s: %v", s.how, err)
				}
				roundTrip(t, m)
				checkModule(t, s.src, m)
			}
		})
	}
}

// memSource is a small in-memory model for configurations no real test
// file has (biases, half-split rope, untied classifier, bad tensors).
type memSource struct {
	cfg   model.Config
	infos []tensor.Info
}

func (s *memSource) Meta() frontend.Meta       { return frontend.Meta{Name: "mem"} }
func (s *memSource) Config() model.Config      { return s.cfg }
func (s *memSource) Tokenizer() tokenizer.Spec { return tokenizer.Spec{} }
func (s *memSource) Tensors() []tensor.Info    { return s.infos }
func (s *memSource) Close() error              { return nil }
func (s *memSource) ReadTensor(string) (*tensor.Tensor, error) {
	return nil, errors.New("memSource holds no data")
}

// newMemSource lists f32 tensors of the canonical shapes for cfg.
func newMemSource(cfg model.Config) *memSource {
	s := &memSource{cfg: cfg}
	add := func(name string, shape ...int) {
		s.infos = append(s.infos, tensor.Info{Name: name, DType: tensor.F32, Shape: shape})
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	add(model.TokenEmbd, cfg.Vocab, cfg.Dim)
	for l := 0; l < cfg.Layers; l++ {
		p := func(part string) string { return model.LayerTensor(l, part) }
		add(p("attn_norm.weight"), cfg.Dim)
		add(p("attn_q.weight"), q, cfg.Dim)
		add(p("attn_k.weight"), kv, cfg.Dim)
		add(p("attn_v.weight"), kv, cfg.Dim)
		add(p("attn_q.bias"), q)
		add(p("attn_k.bias"), kv)
		add(p("attn_v.bias"), kv)
		add(p("attn_output.weight"), cfg.Dim, q)
		add(p("attn_output.bias"), cfg.Dim)
		add(p("ffn_norm.weight"), cfg.Dim)
		add(p("ffn_gate.weight"), cfg.Hidden, cfg.Dim)
		add(p("ffn_up.weight"), cfg.Hidden, cfg.Dim)
		add(p("ffn_down.weight"), cfg.Dim, cfg.Hidden)
	}
	add(model.OutputNorm, cfg.Dim)
	add(model.Output, cfg.Vocab, cfg.Dim)
	add("rope_freqs.weight", cfg.HeadDim/2) // extra tensors are not declared
	return s
}

var memConfig = model.Config{Dim: 64, Hidden: 72, Layers: 2, Heads: 8, KVHeads: 2, HeadDim: 8, Vocab: 100, SeqLen: 32,
	RopeTheta: 1e6, RopeLayout: model.RopeHalfSplit, NormEps: 1e-6, QKVBias: true, OutputBias: true}

// TestLowerBiasesAndLayouts covers q/k/v and output biases, both rope
// layouts and tied and untied classifiers.
func TestLowerBiasesAndLayouts(t *testing.T) {
	for _, c := range []struct {
		name   string
		modify func(*model.Config)
	}{
		{"biases half_split untied", func(*model.Config) {}},
		{"no biases interleaved tied", func(c *model.Config) {
			c.QKVBias, c.OutputBias, c.RopeLayout, c.Tied = false, false, model.RopeInterleaved, true
		}},
		{"qkv bias only", func(c *model.Config) { c.OutputBias = false }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := memConfig
			c.modify(&cfg)
			src := newMemSource(cfg)
			m, err := lower.Lower(src)
			if err != nil {
				t.Fatal(err)
			}
			text := roundTrip(t, m)
			checkModule(t, src, m)
			for _, want := range []struct {
				on   bool
				text string
			}{
				{cfg.QKVBias, "@blk.1.attn_k.weight, @blk.1.attn_k.bias"},
				{cfg.OutputBias, "@blk.0.attn_output.weight, @blk.0.attn_output.bias"},
				{true, fmt.Sprintf(`layout="%s"`, cfg.RopeLayout)},
				{true, "{head_dim=8, heads=2, "},
				{true, "@kv.1.k, @kv.1.v {head_dim=8, heads=8, kv_heads=2}"},
			} {
				if got := strings.Contains(text, want.text); got != want.on {
					t.Errorf("text contains %q: %v, want %v", want.text, got, want.on)
				}
			}
			if strings.Contains(text, "rope_freqs") {
				t.Error("a tensor the decoder does not read was declared")
			}
		})
	}
}

// TestLowerRejects: configurations and tensors the IR cannot express are
// ModelErrors that say what is wrong, never panics.
func TestLowerRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		modify func(*memSource)
		want   string
		tensor string
	}{
		{"heads not a multiple of kv heads", func(s *memSource) { s.cfg.KVHeads = 3 }, "kv heads", ""},
		{"unknown rope layout", func(s *memSource) { s.cfg.RopeLayout = "spiral" }, "rope layout", ""},
		{"zero theta", func(s *memSource) { s.cfg.RopeTheta = 0 }, "theta", ""},
		{"negative eps", func(s *memSource) { s.cfg.NormEps = -1 }, "eps", ""},
		{"missing tensor", func(s *memSource) { s.infos = s.infos[1:] }, "no tensor token_embd.weight", model.TokenEmbd},
		{"wrong shape", func(s *memSource) { s.infos[2].Shape = []int{64, 63} }, "shape [64 63]", "blk.0.attn_q.weight"},
		{"unknown dtype", func(s *memSource) { s.infos[1].DType = 9 }, "dtype(9)", "blk.0.attn_norm.weight"},
		{"quantized rows not whole blocks", func(s *memSource) { s.infos[13].DType = tensor.Q8_0 }, "multiple of 32", "blk.0.ffn_down.weight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := newMemSource(memConfig)
			c.modify(src)
			m, err := lower.Lower(src)
			if err == nil {
				t.Fatalf("lowered:\n%s", ir.Print(m))
			}
			e, ok := omexerr.As(err)
			if !ok || e.Category != omexerr.Model {
				t.Fatalf("error %v is not a ModelError", err)
			}
			if !strings.Contains(err.Error(), c.want) || e.Tensor != c.tensor {
				t.Errorf("error %q (tensor %q), want it to mention %q and tensor %q", err, e.Tensor, c.want, c.tensor)
			}
		})
	}
}

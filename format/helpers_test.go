package format

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// testTensor is one tensor of the sample package and the layer it goes to.
type testTensor struct {
	t     *tensor.Tensor
	layer int
}

// randTensor makes a tensor of random bits (NaN patterns included, so the
// round trip must be bit-exact, not merely numerically close).
func randTensor(rng *rand.Rand, name string, d tensor.DType, shape ...int) *tensor.Tensor {
	t := &tensor.Tensor{Name: name, DType: d, Shape: shape}
	n := t.Elements()
	t.Data = make([]byte, d.DataBytes(n))
	for i := range t.Data {
		t.Data[i] = byte(rng.Uint32())
	}
	if d.Quantized() {
		t.Scales = make([]float32, n/tensor.BlockSize)
		for i := range t.Scales {
			t.Scales[i] = math.Float32frombits(rng.Uint32())
		}
	}
	return t
}

// sampleTensors covers every dtype, 1-D and 2-D shapes, and quantized
// tensors of several blocks, spread over embedding, two blocks and head.
func sampleTensors(seed uint64) []testTensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	const dim, vocab, hidden = 64, 12, 96
	ts := []testTensor{{randTensor(rng, "token_embd.weight", tensor.F32, vocab, dim), EmbeddingLayer}}
	for l := range 2 {
		blk := func(part string) string { return "blk." + itoa(l) + "." + part }
		ts = append(ts,
			testTensor{randTensor(rng, blk("attn_norm.weight"), tensor.F32, dim), l},
			testTensor{randTensor(rng, blk("attn_q.weight"), tensor.Q8_0, dim, dim), l},
			testTensor{randTensor(rng, blk("attn_q.bias"), tensor.Q8_0, dim), l},
			testTensor{randTensor(rng, blk("attn_k.weight"), tensor.Q4_0, 32, dim), l},
			testTensor{randTensor(rng, blk("attn_v.weight"), tensor.Q4_0, 32, dim), l},
			testTensor{randTensor(rng, blk("attn_output.weight"), tensor.F16, dim, dim), l},
			testTensor{randTensor(rng, blk("ffn_norm.weight"), tensor.BF16, dim), l},
			testTensor{randTensor(rng, blk("ffn_gate.weight"), tensor.BF16, hidden, dim), l},
			testTensor{randTensor(rng, blk("ffn_up.weight"), tensor.F16, hidden, dim), l},
			testTensor{randTensor(rng, blk("ffn_down.weight"), tensor.Q8_0, dim, hidden), l},
		)
	}
	ts = append(ts,
		testTensor{randTensor(rng, "output_norm.weight", tensor.F32, dim), HeadLayer},
		testTensor{randTensor(rng, "output.weight", tensor.Q4_0, vocab, dim), HeadLayer},
	)
	return ts
}

// sampleGraph is a decoder graph whose nodes need exactly ts.
func sampleGraph(ts []testTensor) Graph {
	ref := func(t *tensor.Tensor) WeightRef {
		return WeightRef{Name: t.Name, DType: t.DType.String(), Shape: t.Shape}
	}
	g := Graph{GraphID: "sample", GraphType: "decoder_only_transformer"}
	byLayer := map[int][]WeightRef{}
	for _, x := range ts {
		byLayer[x.layer] = append(byLayer[x.layer], ref(x.t))
	}
	g.Nodes = append(g.Nodes, Node{ID: "embedding", Type: NodeEmbedding, Inputs: []string{"tokens"}, Outputs: []string{"hidden"},
		Config: NodeConfig{VocabSize: 12, HiddenSize: 64}, Weights: byLayer[EmbeddingLayer]})
	prev := "embedding.hidden"
	for l := range 2 {
		layer := l
		id := "block_" + itoa(l)
		g.Nodes = append(g.Nodes, Node{ID: id, Type: NodeTransformerBlock, Inputs: []string{"hidden"}, Outputs: []string{"hidden"},
			Config: NodeConfig{Layer: &layer, HiddenSize: 64, IntermediateSize: 96, NumAttentionHeads: 8, NumKeyValueHeads: 4,
				AttentionHeadSize: 8, ContextLength: 256, RopeTheta: 10000, RopeLayout: "interleaved", NormType: "rms_norm",
				NormEps: 1e-5, Activation: "silu", QKVBias: true}, Weights: byLayer[l]})
		g.Edges = append(g.Edges, Edge{From: prev, To: Endpoint(id, "hidden")})
		prev = Endpoint(id, "hidden")
	}
	head := byLayer[HeadLayer]
	g.Nodes = append(g.Nodes,
		Node{ID: "output_norm", Type: NodeNorm, Inputs: []string{"hidden"}, Outputs: []string{"hidden"},
			Config: NodeConfig{HiddenSize: 64, NormType: "rms_norm", NormEps: 1e-5}, Weights: head[:1]},
		Node{ID: "lm_head", Type: NodeLinear, Inputs: []string{"hidden"}, Outputs: []string{"logits"},
			Config: NodeConfig{InFeatures: 64, OutFeatures: 12}, Weights: head[1:]})
	g.Edges = append(g.Edges, Edge{From: prev, To: "output_norm.hidden"}, Edge{From: "output_norm.hidden", To: "lm_head.hidden"})
	g.EntryPoints = []EntryPoint{{Name: "generate", Inputs: []string{"embedding.tokens"}, Outputs: []string{"lm_head.logits"}}}
	return g
}

// sampleTokenizer is an SPM tokenizer whose vocabulary holds the tokens
// that stress vocab.txt's escaping.
func sampleTokenizer() Tokenizer {
	vocab := []string{"<unk>", "<s>", "</s>", "\n", "a\\b", "\x00\x01", "\xff\xfe", "▁the", "", " ", "\r\n", "\\x41"}
	scores := make([]float32, len(vocab))
	types := make([]int32, len(vocab))
	for i := range scores {
		scores[i] = -float32(i) * 0.1
		types[i] = 1
	}
	scores[5] = float32(math.NaN())
	scores[6] = float32(math.Inf(-1))
	types[0], types[1], types[2] = 2, 3, 3
	return Tokenizer{
		Config: TokenizerConfig{
			TokenizerType: TokenizerSPM,
			SpecialTokens: SpecialTokens{
				BOS: &SpecialToken{ID: 1, Content: "<s>"}, EOS: &SpecialToken{ID: 2, Content: "</s>"},
				UNK: &SpecialToken{ID: 0, Content: "<unk>"},
			},
			AddBOS: true, AddSpacePrefix: true, ByteFallback: true,
			TruncationSide: "right", PaddingSide: "right",
		},
		Vocab: vocab, Scores: scores, Types: types,
	}
}

// writeSample writes the sample package to dir and returns its tensors.
func writeSample(t testing.TB, dir string, opts ...Option) []testTensor {
	t.Helper()
	ts := sampleTensors(1)
	w, err := Create(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if err := w.WriteTensor(x.t, x.layer); err != nil {
			t.Fatal(err)
		}
	}
	var infos []tensor.Info
	for _, x := range ts {
		infos = append(infos, tensor.Info{Name: x.t.Name, DType: x.t.DType, Shape: x.t.Shape})
	}
	minReq, recReq := ComputeRequirements(WeightBytes(infos), KVCache{Layers: 2, KVHeads: 4, HeadDim: 8, ContextLength: 256})
	must(t, w.SetMetadata(Metadata{ModelName: "sample", ModelVersion: "1", ModelArchitecture: "llama",
		CreationDate: "2024-01-02T03:04:05Z", CreatedBy: "format tests", License: "MIT", SourceFormat: "synthetic",
		HardwareTargets: []string{"cpu"}, MinimumRequirements: minReq, RecommendedRequirements: recReq}))
	must(t, w.SetGraph(sampleGraph(ts)))
	must(t, w.SetTokenizer(sampleTokenizer()))
	must(t, w.Commit())
	return ts
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantModelError fails unless err is a ModelError naming file.
func wantModelError(t *testing.T, err error, file string) *omexerr.Error {
	t.Helper()
	e, ok := omexerr.As(err)
	if !ok || e.Category != omexerr.Model {
		t.Fatalf("want a ModelError naming %s, got %v", file, err)
	}
	if e.File != file {
		t.Fatalf("error names file %q, want %q: %v", e.File, file, err)
	}
	return e
}

// wantCategory fails unless err is an OMEX error of category c.
func wantCategory(t *testing.T, err error, c omexerr.Category) *omexerr.Error {
	t.Helper()
	e, ok := omexerr.As(err)
	if !ok || e.Category != c {
		t.Fatalf("want a %v, got %v", c, err)
	}
	return e
}

// remanifest rewrites manifest.json to match the files as they are now, so
// a test can corrupt a file and reach the structural checks behind the
// hashes.
func remanifest(t *testing.T, dir string) {
	t.Helper()
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	must(t, err)
	must(t, json.Unmarshal(b, &m))
	for i := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.Files[i].Path)))
		must(t, err)
		sum := sha256.Sum256(data)
		m.Files[i].Size = int64(len(data))
		m.Files[i].SHA256 = hex.EncodeToString(sum[:])
	}
	b, err = marshalJSON(&m)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644))
}

// onlyEntry fails unless parent holds exactly the named entries, so no
// temporary or aside directory was left behind.
func onlyEntries(t *testing.T, parent string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	must(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %q, want %q", parent, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %q, want %q", parent, got, names)
		}
	}
}

// plain turns a possibly nil *omexerr.Error into a plain error.
func plain(e *omexerr.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// sortManifest sorts manifest entries by path.
func sortManifest(m *Manifest) {
	slices.SortFunc(m.Files, func(a, b ManifestEntry) int { return strings.Compare(a.Path, b.Path) })
}

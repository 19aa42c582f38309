package format

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// TestRoundTrip writes every dtype and reads each tensor back bit for bit,
// with the tokenizer, metadata and graph, and checks the package verifies.
func TestRoundTrip(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	ts := writeSample(t, dir)
	onlyEntries(t, parent, "pkg")
	for _, d := range []string{PreprocessorsDir, PostprocessDir, ExtensionsDir} {
		if st, err := os.Stat(filepath.Join(dir, d)); err != nil || !st.IsDir() {
			t.Errorf("%s/ missing: %v", d, err)
		}
	}

	p, err := Open(dir)
	must(t, err)
	infos := p.Tensors()
	if len(infos) != len(ts) {
		t.Fatalf("%d tensors listed, wrote %d", len(infos), len(ts))
	}
	for _, x := range ts {
		got, err := p.ReadTensor(x.t.Name)
		must(t, err)
		if got.Name != x.t.Name || got.DType != x.t.DType || !slices.Equal(got.Shape, x.t.Shape) {
			t.Fatalf("%s: read %s %v, wrote %s %v", x.t.Name, got.DType, got.Shape, x.t.DType, x.t.Shape)
		}
		if !bytes.Equal(got.Data, x.t.Data) {
			t.Fatalf("%s: data differs", x.t.Name)
		}
		if len(got.Scales) != len(x.t.Scales) {
			t.Fatalf("%s: %d scales, wrote %d", x.t.Name, len(got.Scales), len(x.t.Scales))
		}
		for i := range got.Scales {
			if math.Float32bits(got.Scales[i]) != math.Float32bits(x.t.Scales[i]) {
				t.Fatalf("%s: scale %d differs", x.t.Name, i)
			}
		}
		e, ok := p.Entry(x.t.Name)
		if !ok || e.Layer != x.layer || e.File != WeightFileName(x.layer) || e.DataOffset%Alignment != 0 || e.RecordOffset%Alignment != 0 {
			t.Fatalf("%s: bad index entry %+v", x.t.Name, e)
		}
	}
	// The index lists tensors in execution order: embedding, blocks, head.
	if infos[0].Name != "token_embd.weight" || infos[len(infos)-1].Name != "output.weight" || infos[1].Name != "blk.0.attn_norm.weight" {
		t.Fatalf("index order: %v ... %v", infos[:2], infos[len(infos)-1])
	}
	if _, err := p.ReadTensor("nope"); err == nil {
		t.Fatal("reading an unknown tensor succeeded")
	}

	want := sampleTokenizer()
	got := p.Tokenizer
	if !reflect.DeepEqual(got.Vocab, want.Vocab) || !reflect.DeepEqual(got.Types, want.Types) || got.Merges != nil {
		t.Fatalf("tokenizer differs:\n got %q %v\nwant %q %v", got.Vocab, got.Types, want.Vocab, want.Types)
	}
	for i := range want.Scores {
		if math.Float32bits(got.Scores[i]) != math.Float32bits(want.Scores[i]) {
			t.Fatalf("score %d: %v, wrote %v", i, got.Scores[i], want.Scores[i])
		}
	}
	if TokenID(got.Config.SpecialTokens.BOS) != 1 || TokenID(got.Config.SpecialTokens.PAD) != -1 || got.Config.VocabSize != len(want.Vocab) {
		t.Fatalf("special tokens or vocab size lost: %+v", got.Config)
	}
	if p.Metadata.Parameters == 0 || p.Metadata.Quantization.Type != "mixed" || p.Metadata.OmexVersion != Version {
		t.Fatalf("metadata defaults not filled: %+v", p.Metadata)
	}
	if !reflect.DeepEqual(p.Graph, sampleGraph(ts)) {
		t.Fatalf("graph differs after round trip")
	}
	if p.Agent.MemoryManagement.ContextWindowSize != 256 || p.Agent.MemoryManagement.Strategy != "sliding_window" {
		t.Fatalf("default agent: %+v", p.Agent)
	}
	if len(p.Quantization.Schemes) != 2 {
		t.Fatalf("quantization.json lists %d schemes, want 2", len(p.Quantization.Schemes))
	}
	must(t, Verify(dir))
}

// TestDeterministic writes the same package twice and expects identical
// bytes in every file (the manifest covers them all).
func TestDeterministic(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	writeSample(t, a)
	writeSample(t, b)
	ma, err := os.ReadFile(filepath.Join(a, ManifestFile))
	must(t, err)
	mb, err := os.ReadFile(filepath.Join(b, ManifestFile))
	must(t, err)
	if !bytes.Equal(ma, mb) {
		t.Fatalf("two writes of the same package differ:\n%s\n%s", ma, mb)
	}
}

package gguf

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// TestOpenAllTestdata opens every shared GGUF and checks each yields a
// tokenizer, and that vocab-only files open without a model config.
func TestOpenAllTestdata(t *testing.T) {
	for _, p := range allGGUF(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			g, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if v := g.Version(); v != 2 && v != 3 {
				t.Errorf("version %d", v)
			}
			spec, err := g.TokenizerSpec()
			if err != nil {
				t.Fatalf("tokenizer: %v", err)
			}
			if len(spec.Tokens) == 0 || spec.Kind == "" {
				t.Fatalf("empty tokenizer spec: kind %q, %d tokens", spec.Kind, len(spec.Tokens))
			}
			if spec.Types != nil && len(spec.Types) != len(spec.Tokens) {
				t.Errorf("%d types for %d tokens", len(spec.Types), len(spec.Tokens))
			}
			if spec.Kind == tokenizer.BPE && len(spec.Merges) == 0 {
				t.Errorf("BPE without merges")
			}
			if len(g.TensorInfos()) == 0 {
				if _, err := g.ModelConfig(); err == nil {
					t.Errorf("vocab-only file gave a model config")
				}
				if c := g.Config(); c != (model.Config{}) {
					t.Errorf("vocab-only file: Config() = %+v, want zero", c)
				}
			} else if _, err := g.ModelConfig(); err != nil {
				t.Errorf("model config: %v", err)
			}
		})
	}
}

// TestTokenizerSpecs checks the three tokenizer kinds against what the
// vocab files state and llama.cpp's defaults.
func TestTokenizerSpecs(t *testing.T) {
	open := func(rel string) tokenizer.Spec {
		g, err := Open(testfiles.SharedFile(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		s, err := g.TokenizerSpec()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	spm := open("tokenizers/vocab-tests/ggml-vocab-llama-spm.gguf")
	if spm.Kind != tokenizer.SPM || len(spm.Tokens) != 32000 || len(spm.Scores) != 32000 || len(spm.Types) != 32000 {
		t.Errorf("llama-spm: kind %s, %d tokens, %d scores, %d types", spm.Kind, len(spm.Tokens), len(spm.Scores), len(spm.Types))
	}
	if spm.Tokens[1] != "<s>" || spm.Tokens[2] != "</s>" || spm.Tokens[0] != "<unk>" || spm.Tokens[3] != "<0x00>" {
		t.Errorf("llama-spm: first tokens %q", spm.Tokens[:4])
	}
	if spm.Types[3] != tokenizer.TypeByte || spm.Types[1] != tokenizer.TypeControl {
		t.Errorf("llama-spm: types %v", spm.Types[:4])
	}
	if spm.BOS != 1 || spm.EOS != 2 || spm.UNK != 0 || spm.PAD != -1 || !spm.AddBOS || spm.AddEOS || !spm.AddSpacePrefix || !spm.ByteFallback {
		t.Errorf("llama-spm: %+v", specFlags(spm))
	}

	phi := open("tokenizers/vocab-tests/ggml-vocab-phi-3.gguf")
	if phi.EOS != 32000 || phi.PAD != 32000 {
		t.Errorf("phi-3: %+v", specFlags(phi))
	}

	gpt2 := open("tokenizers/vocab-tests/ggml-vocab-gpt-2.gguf")
	if gpt2.Kind != tokenizer.BPE || gpt2.Pre != "gpt-2" || len(gpt2.Merges) != 50000 || len(gpt2.Tokens) != 50257 {
		t.Errorf("gpt-2: kind %s pre %q, %d merges, %d tokens", gpt2.Kind, gpt2.Pre, len(gpt2.Merges), len(gpt2.Tokens))
	}
	if gpt2.Merges[0] != "Ġ t" || gpt2.Tokens[50256] != "<|endoftext|>" {
		t.Errorf("gpt-2: first merge %q, token 50256 %q", gpt2.Merges[0], gpt2.Tokens[50256])
	}
	if gpt2.BOS != 50256 || gpt2.EOS != 50256 || gpt2.AddBOS || gpt2.AddEOS || gpt2.AddSpacePrefix || gpt2.Scores != nil {
		t.Errorf("gpt-2: %+v", specFlags(gpt2))
	}

	ds := open("tokenizers/vocab-tests/ggml-vocab-deepseek-coder.gguf")
	if ds.Pre != "deepseek-coder" || !ds.AddBOS || ds.BOS != 32013 {
		t.Errorf("deepseek-coder: pre %q %+v", ds.Pre, specFlags(ds))
	}
	neox := open("tokenizers/vocab-extra/ggml-vocab-gpt-neox.gguf")
	if neox.Pre != "default" {
		t.Errorf("gpt-neox without tokenizer.ggml.pre: pre %q, want default", neox.Pre)
	}

	bert := open("tokenizers/vocab-tests/ggml-vocab-bert-bge.gguf")
	if bert.Kind != tokenizer.WordPiece || bert.BOS != 101 || bert.EOS != 102 || bert.UNK != 100 || bert.PAD != 0 ||
		!bert.Lowercase || !bert.StripAccents || !bert.AddBOS || !bert.AddEOS {
		t.Errorf("bert: kind %s %+v", bert.Kind, specFlags(bert))
	}
	if bert.Tokens[101] != "[CLS]" || bert.Tokens[102] != "[SEP]" {
		t.Errorf("bert: tokens 101, 102 = %q, %q", bert.Tokens[101], bert.Tokens[102])
	}

	// The baichuan file names no <unk>: llama.cpp's SPM default 0 applies.
	bc := open("tokenizers/vocab-extra/ggml-vocab-baichuan.gguf")
	if bc.UNK != 0 || bc.BOS != 1 || bc.EOS != 2 {
		t.Errorf("baichuan: %+v", specFlags(bc))
	}
}

// specFlags is the scalar part of a Spec, for error messages.
func specFlags(s tokenizer.Spec) map[string]any {
	return map[string]any{"bos": s.BOS, "eos": s.EOS, "unk": s.UNK, "pad": s.PAD, "addBOS": s.AddBOS,
		"addEOS": s.AddEOS, "spacePrefix": s.AddSpacePrefix, "byteFallback": s.ByteFallback}
}

// TestModelConfigs checks the hyperparameters against MANIFEST.md.
func TestModelConfigs(t *testing.T) {
	g, err := Open(testfiles.SharedFile(t, "models/stories260K/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// The GGUF states context_length 2048 (the llama2.c checkpoint says
	// 512) and carries output.weight as a separate tensor, so it is not
	// tied as far as the file goes; TestStoriesOutputIsEmbedding checks
	// the classifier really equals the embedding.
	want := model.Config{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, Vocab: 512, SeqLen: 2048,
		RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5, Tied: false}
	if c := g.Config(); c != want {
		t.Errorf("stories260K config\n got %+v\nwant %+v", c, want)
	}
	m := g.Meta()
	if m.Name != "llama" || m.Architecture != "llama" || m.SourceFormat != "gguf" {
		t.Errorf("stories260K meta %+v", m)
	}

	for _, f := range []string{"TinyStories-656K.f16.gguf", "tinystories-656k-q8_0.gguf", "TinyStories-656K-Q8_0.alt.gguf"} {
		g, err := Open(testfiles.SharedFile(t, "models/tinystories-656k/"+f))
		if err != nil {
			t.Fatal(err)
		}
		want := model.Config{Dim: 128, Hidden: 384, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 16, Vocab: 2048, SeqLen: 512,
			RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-6, Tied: true}
		if c := g.Config(); c != want {
			t.Errorf("%s config\n got %+v\nwant %+v", f, c, want)
		}
		if _, ok := g.TensorInfo(model.Output); ok {
			t.Errorf("%s: tied but has output.weight", f)
		}
		g.Close()
	}
}

// TestStoriesOutputIsEmbedding confirms MANIFEST's "classifier shared with
// the embedding" for the GGUF copy: output.weight is token_embd's bytes.
func TestStoriesOutputIsEmbedding(t *testing.T) {
	g, err := Open(testfiles.SharedFile(t, "models/stories260K/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	emb, err := g.ReadTensor(model.TokenEmbd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.ReadTensor(model.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(emb.Data, out.Data) {
		t.Errorf("output.weight differs from token_embd.weight")
	}
}

// TestReadAllTensors reads every tensor of every model file and checks its
// size, dtype and shape against the directory.
func TestReadAllTensors(t *testing.T) {
	for _, p := range allGGUF(t) {
		if !strings.Contains(p, "models") {
			continue
		}
		g, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		infos := g.Tensors()
		if len(infos) == 0 {
			t.Errorf("%s: no tensors", p)
		}
		for _, info := range infos {
			tt, err := g.ReadTensor(info.Name)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			n := tt.Elements()
			if tt.DType != info.DType || len(tt.Data) != tt.DType.DataBytes(n) {
				t.Errorf("%s %s: dtype %s, %d data bytes for %d elements", p, info.Name, tt.DType, len(tt.Data), n)
			}
			if tt.DType.Quantized() && len(tt.Scales) != n/tensor.BlockSize {
				t.Errorf("%s %s: %d scales for %d elements", p, info.Name, len(tt.Scales), n)
			}
		}
		g.Close()
	}
}

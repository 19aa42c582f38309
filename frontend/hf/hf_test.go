package hf

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omex-dev/omex/frontend/safetensors"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

func TestTinyStories(t *testing.T) {
	dir := filepath.Join(testfiles.Shared(t), "models", "tinystories-656k")
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := model.Config{Dim: 128, Hidden: 384, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 16, Vocab: 2048,
		SeqLen: 512, RopeTheta: 10000, RopeLayout: model.RopeHalfSplit, NormEps: 1e-6, Tied: true}
	if got := m.Config(); got != want {
		t.Errorf("config\n got %+v\nwant %+v", got, want)
	}
	meta := m.Meta()
	if meta.Name != "tinystories-656k" || meta.Architecture != "llama" || meta.SourceFormat != "safetensors" {
		t.Errorf("meta %+v", meta)
	}
	infos := m.Tensors()
	if len(infos) != 1+2*9+1 {
		t.Errorf("%d tensors, want 20 (tied: no output.weight)", len(infos))
	}
	for _, info := range infos {
		tt, err := m.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if tt.Name != info.Name || tt.DType != tensor.F32 || !slices.Equal(tt.Shape, info.Shape) || len(tt.Data) != 4*tt.Elements() {
			t.Errorf("%s: got %s %v %v with %d bytes, want %v", info.Name, tt.Name, tt.DType, tt.Shape, len(tt.Data), info.Shape)
		}
	}
	// The embedding is stored once, as lm_head.weight, and reached through
	// the file's alias metadata.
	raw, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	head, err := raw.ReadRaw("lm_head.weight")
	if err != nil {
		t.Fatal(err)
	}
	emb, err := m.ReadTensor(model.TokenEmbd)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(emb.Shape, []int{2048, 128}) || !bytes.Equal(emb.Data, head) {
		t.Errorf("token_embd is not the stored lm_head.weight")
	}
	if _, err := m.ReadTensor(model.Output); err == nil {
		t.Error("a tied model exposes output.weight")
	}
}

func TestSharded(t *testing.T) {
	cfg := smallConfig()
	es := checkpoint(cfg, "BF16", false)
	// Mixed dtypes must come back as stored.
	es[1] = entry(randFor(1), es[1].Name, "F32", es[1].Shape...)
	es[2] = entry(randFor(2), es[2].Name, "F16", es[2].Shape...)
	es = append(es, entry(randFor(3), "model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1))
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	half := len(es) / 2
	shards := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
	writeSafetensors(t, filepath.Join(dir, shards[0]), es[:half], map[string]string{"format": "pt"})
	writeSafetensors(t, filepath.Join(dir, shards[1]), es[half:], map[string]string{"format": "pt"})
	weightMap := map[string]string{}
	for i, e := range es {
		weightMap[e.Name] = shards[min(i/half, 1)]
	}
	writeJSON(t, filepath.Join(dir, indexFile), map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})

	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.Config()
	if c.HeadDim != 2 || c.KVHeads != 2 || c.RopeTheta != 500000 || c.NormEps != 1e-5 || c.Tied || c.QKVBias {
		t.Errorf("config %+v", c)
	}
	byHF := map[string]safetensors.Entry{}
	for _, e := range es {
		byHF[e.Name] = e
	}
	infos := m.Tensors()
	if len(infos) != 1+2*9+2 {
		t.Errorf("%d tensors, want 21", len(infos))
	}
	dtypes := map[string]tensor.DType{"F32": tensor.F32, "F16": tensor.F16, "BF16": tensor.BF16}
	for _, info := range infos {
		loc := m.where[info.Name]
		src := byHF[loc.hfName]
		if c, _ := canonicalName(src.Name); c != info.Name {
			t.Errorf("%s read from %s", info.Name, src.Name)
		}
		tt, err := m.ReadTensor(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tt.Data, src.Data) || tt.DType != dtypes[src.DType] || info.DType != tt.DType || !slices.Equal(tt.Shape, src.Shape) {
			t.Errorf("%s: not read back bit-identically from %s", info.Name, src.Name)
		}
	}
	if got := filepath.Base(m.where[model.Output].file.Name); got != shards[1] {
		t.Errorf("output.weight read from %s, want %s", got, shards[1])
	}
}

func TestQwen2Biases(t *testing.T) {
	cfg := smallConfig()
	cfg["architectures"] = []string{"Qwen2ForCausalLM"}
	cfg["tie_word_embeddings"] = true
	cfg["sliding_window"] = 32
	cfg["use_sliding_window"] = false
	es := checkpoint(cfg, "BF16", true)
	m, err := Open(writeDir(t, cfg, es, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if c := m.Config(); !c.QKVBias || !c.Tied || c.SeqLen != 64 {
		t.Errorf("config %+v", c)
	}
	if m.Meta().Architecture != "qwen2" {
		t.Errorf("meta %+v", m.Meta())
	}
	shapes := map[string][]int{}
	for _, info := range m.Tensors() {
		shapes[info.Name] = info.Shape
	}
	for l := 0; l < 2; l++ {
		for part, want := range map[string][]int{"attn_q.bias": {8}, "attn_k.bias": {4}, "attn_v.bias": {4}} {
			name := model.LayerTensor(l, part)
			if !slices.Equal(shapes[name], want) {
				t.Errorf("%s shape %v, want %v", name, shapes[name], want)
			}
			tt, err := m.ReadTensor(name)
			if err != nil || tt.Elements() != want[0] {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if _, ok := shapes[model.LayerTensor(0, "attn_output.bias")]; ok {
		t.Error("qwen2 has no o_proj bias")
	}

	// Without the biases the model is incomplete.
	var noBias []safetensors.Entry
	for _, e := range es {
		if e.Name != "model.layers.1.self_attn.k_proj.bias" {
			noBias = append(noBias, e)
		}
	}
	_, err = Open(writeDir(t, cfg, noBias, nil))
	oe := wantModelError(t, err, "model.missing_tensor", "blk.1.attn_k.bias", "model.layers.1.self_attn.k_proj.bias")
	if filepath.Base(oe.File) != "model.safetensors" {
		t.Errorf("error names file %q", oe.File)
	}
}

func TestAliases(t *testing.T) {
	// An untied model whose classifier was saved as an alias of the
	// embedding: the alias resolves whichever direction it points.
	cfg := smallConfig()
	es := checkpoint(cfg, "F32", false)
	es = es[:len(es)-1] // drop lm_head
	m, err := Open(writeDir(t, cfg, es, map[string]string{"format": "pt", "lm_head.weight": "model.embed_tokens.weight"}))
	if err != nil {
		t.Fatal(err)
	}
	emb, err1 := m.ReadTensor(model.TokenEmbd)
	out, err2 := m.ReadTensor(model.Output)
	if err1 != nil || err2 != nil || !bytes.Equal(emb.Data, out.Data) || out.Name != model.Output {
		t.Errorf("alias not resolved: %v %v", err1, err2)
	}
	m.Close()

	// Without the alias the classifier is missing.
	_, err = Open(writeDir(t, cfg, es, map[string]string{"format": "pt"}))
	wantModelError(t, err, "model.missing_tensor", "output.weight", "lm_head.weight")

	// A tied model that kept only lm_head, with no metadata: tying makes
	// the two one tensor, so the embedding is found anyway.
	cfg["tie_word_embeddings"] = true
	es = checkpoint(cfg, "F32", false)
	head := es[0]
	head.Name = "lm_head.weight"
	es[0] = head
	m, err = Open(writeDir(t, cfg, es, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if emb, err := m.ReadTensor(model.TokenEmbd); err != nil || !bytes.Equal(emb.Data, head.Data) {
		t.Errorf("tied lm_head not used as the embedding: %v", err)
	}
}

func TestBadWeights(t *testing.T) {
	cfg := smallConfig()
	good := checkpoint(cfg, "F32", false)
	edit := func(name string, f func(*safetensors.Entry)) []safetensors.Entry {
		out := slices.Clone(good)
		for i := range out {
			if out[i].Name == name {
				f(&out[i])
			}
		}
		return out
	}

	es := edit("model.layers.1.mlp.up_proj.weight", func(e *safetensors.Entry) { *e = entry(randFor(4), e.Name, "I8", e.Shape...) })
	_, err := Open(writeDir(t, cfg, es, nil))
	oe := wantModelError(t, err, "model.unsupported_dtype", "I8", "blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight")
	if oe.Offset < 0 || filepath.Base(oe.File) != "model.safetensors" {
		t.Errorf("error lacks file or offset: %v", err)
	}

	es = edit("model.layers.0.self_attn.k_proj.weight", func(e *safetensors.Entry) { *e = entry(randFor(5), e.Name, "F32", 8, 8) })
	_, err = Open(writeDir(t, cfg, es, nil))
	oe = wantModelError(t, err, "model.bad_shape", "blk.0.attn_k.weight", "[8 8]", "[4 8]")
	if oe.Offset < 0 || filepath.Base(oe.File) != "model.safetensors" {
		t.Errorf("error lacks file or offset: %v", err)
	}

	es = append(slices.Clone(good), entry(randFor(6), "model.layers.0.self_attn.o_proj.bias", "F32", 8))
	_, err = Open(writeDir(t, cfg, es, nil))
	wantModelError(t, err, "model.unexpected_tensor", "blk.0.attn_output.bias")

	es = append(slices.Clone(good), entry(randFor(7), "model.layers.2.input_layernorm.weight", "F32", 8))
	_, err = Open(writeDir(t, cfg, es, nil))
	wantModelError(t, err, "model.unexpected_tensor", "blk.2.attn_norm.weight")

	// Truncated and corrupted files name the file and an offset.
	dir := writeDir(t, cfg, good, nil)
	path := filepath.Join(dir, "model.safetensors")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, data[:len(data)-10], 0o644)
	_, err = Open(dir)
	oe = wantModelError(t, err, "model.truncated", path)
	if oe.Offset <= 0 {
		t.Errorf("truncation error without offset: %v", err)
	}
	corrupt := slices.Clone(data)
	at := bytes.Index(corrupt, []byte(`"shape"`))
	corrupt[at] = '!'

	os.WriteFile(path, corrupt, 0o644)
	_, err = Open(dir)
	oe = wantModelError(t, err, "model.bad_header", path)
	if oe.Offset != int64(at) {
		t.Errorf("corruption error offset %d, want %d: %v", oe.Offset, at, err)
	}
	os.WriteFile(path, data[:4], 0o644)
	_, err = Open(dir)
	wantModelError(t, err, "model.truncated", path)

	os.Remove(path)
	_, err = Open(dir)
	wantModelError(t, err, "model.missing_file", "model.safetensors")
}

func TestBadIndex(t *testing.T) {
	cfg := smallConfig()
	es := checkpoint(cfg, "F32", false)
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	writeSafetensors(t, filepath.Join(dir, "a.safetensors"), es[:5], nil)
	writeSafetensors(t, filepath.Join(dir, "b.safetensors"), es[5:], nil)
	wm := map[string]string{}
	for i, e := range es {
		wm[e.Name] = map[bool]string{true: "a.safetensors", false: "b.safetensors"}[i < 5]
	}
	index := filepath.Join(dir, indexFile)

	wm[es[0].Name] = "b.safetensors"
	writeJSON(t, index, map[string]any{"weight_map": wm})
	_, err := Open(dir)
	wantModelError(t, err, "model.missing_tensor", es[0].Name, "b.safetensors")

	wm[es[0].Name] = "../a.safetensors"
	writeJSON(t, index, map[string]any{"weight_map": wm})
	_, err = Open(dir)
	wantModelError(t, err, "model.bad_index", "../a.safetensors")

	wm[es[0].Name] = "c.safetensors"
	writeJSON(t, index, map[string]any{"weight_map": wm})
	_, err = Open(dir)
	wantModelError(t, err, "model.missing_file", "c.safetensors")

	os.WriteFile(index, []byte(`{"weight_map": [`), 0o644)
	_, err = Open(dir)
	wantModelError(t, err, "model.bad_index", indexFile)

	// The same tensor in two shards is ambiguous.
	writeSafetensors(t, filepath.Join(dir, "b.safetensors"), append(slices.Clone(es[5:]), es[0]), nil)
	wm[es[0].Name] = "a.safetensors"
	writeJSON(t, index, map[string]any{"weight_map": wm})
	_, err = Open(dir)
	wantModelError(t, err, "model.bad_tensor", es[0].Name)
}

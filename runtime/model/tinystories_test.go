package model_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/omex-dev/omex/frontend/gguf"
	"github.com/omex-dev/omex/frontend/hf"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/model"
)

// hfReference reads the prompt ids (BOS first) and the 48 greedy ids that
// an f32 Hugging Face-convention forward pass produced for TinyStories-656K.
func hfReference(t *testing.T) (prompt, want []int) {
	b, err := os.ReadFile(filepath.Join(testfiles.Shared(t), "golden", "tinystories-656k.pyref_hf_f32.once_upon.greedy48.txt"))
	if err != nil {
		t.Fatal(err)
	}
	list := func(prefix string) []int {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				var ids []int
				for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return r == '[' || r == ']' || r == ',' || r == ' ' }) {
					id, err := strconv.Atoi(f)
					if err != nil {
						t.Fatalf("golden %q: %v", line, err)
					}
					ids = append(ids, id)
				}
				return ids
			}
		}
		t.Fatalf("golden has no %q line", prefix)
		return nil
	}
	return list("prompt ids "), list("greedy ids ")
}

// decodeTiny runs BOS + prompt and len(want) greedy steps on m and returns
// the generated ids with how many lead in agreement with want.
func decodeTiny(t *testing.T, m *model.Model, prompt, want []int) ([]int, int) {
	if prompt[0] != 1 {
		t.Fatalf("golden prompt does not start with BOS 1: %v", prompt)
	}
	got := greedy(t, m, prompt[1:], len(prompt)-1+len(want))[len(prompt)-1:]
	lead := 0
	for lead < len(want) && got[lead] == want[lead] {
		lead++
	}
	return got, lead
}

// TestTinyStories656KHalfSplit checks the half-split rope on real weights:
// the safetensors checkpoint, run in Hugging Face layout, must reproduce
// the f32 Hugging Face reference's 48 greedy ids.
func TestTinyStories656KHalfSplit(t *testing.T) {
	prompt, want := hfReference(t)
	src, err := hf.Open(filepath.Join(testfiles.Shared(t), "models", "tinystories-656k"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Config().RopeLayout != model.RopeHalfSplit {
		t.Fatalf("hf importer gave rope layout %q", src.Config().RopeLayout)
	}
	m, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	if got, lead := decodeTiny(t, m, prompt, want); lead < len(want) {
		t.Errorf("first divergence from the HF reference at generated id %d: got %v, want %v", lead, got, want)
	}
}

// TestTinyStories656KGGUF runs the same model from GGUF, whose Q/K rows are
// permuted for interleaved rope, with F16 and Q8_0 weights kept in their
// form. Both are roundings of the f32 weights, so the ids need only follow
// the f32 reference for a stretch: F16 keeps all 48 today; this tiny model's
// Q8_0 weights (checked against the F16 file: within half a scale step)
// turn "house with" into "house." at id 6. llama.cpp, which also quantizes
// activations, drifts elsewhere (about id 13), so no exact Q8_0 golden.
func TestTinyStories656KGGUF(t *testing.T) {
	prompt, want := hfReference(t)
	for _, tc := range []struct {
		file    string
		minLead int
	}{
		{"TinyStories-656K.f16.gguf", 40},
		{"tinystories-656k-q8_0.gguf", 5},
	} {
		src, err := gguf.Open(filepath.Join(testfiles.Shared(t), "models", "tinystories-656k", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		m, err := model.New(src.Config(), src.ReadTensor)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got, lead := decodeTiny(t, m, prompt, want)
		t.Logf("%s: %d of %d greedy ids lead in agreement with the f32 HF reference", tc.file, lead, len(want))
		if lead < tc.minLead {
			t.Errorf("%s diverges after %d ids: got %v, want %v", tc.file, lead, got, want)
		}
	}
}

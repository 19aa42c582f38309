package tokenizer

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// llama2cBin builds a tokenizer.bin from pieces and scores.
func llama2cBin(maxLen int32, pieces []string, scores []float32) []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(maxLen))
	for i, p := range pieces {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(scores[i]))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

func TestParseLlama2cBinConverts(t *testing.T) {
	data := llama2cBin(6, []string{"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " a", "b"}, []float32{0, 0, 0, 0, -1, -2})
	spec, err := ParseLlama2cBin(data, 0, "t.bin")
	if err != nil {
		t.Fatal(err)
	}
	wantTokens := []string{"<unk>", "<s>", "</s>", "<0x0A>", "▁a", "b"}
	wantTypes := []int32{TypeUnknown, TypeControl, TypeControl, TypeByte, TypeNormal, TypeNormal}
	for i := range wantTokens {
		if spec.Tokens[i] != wantTokens[i] || spec.Types[i] != wantTypes[i] {
			t.Fatalf("token %d: %q type %d, want %q type %d", i, spec.Tokens[i], spec.Types[i], wantTokens[i], wantTypes[i])
		}
	}
	if spec.Kind != SPM || spec.BOS != 1 || spec.EOS != 2 || spec.UNK != 0 || !spec.AddBOS || !spec.AddSpacePrefix || !spec.ByteFallback {
		t.Fatalf("settings: %+v", spec)
	}
	// With an explicit size only that many tokens are read.
	spec, err = ParseLlama2cBin(data, 4, "t.bin")
	if err != nil || len(spec.Tokens) != 4 {
		t.Fatalf("vocabSize 4: %d tokens, %v", len(spec.Tokens), err)
	}
}

func TestParseLlama2cBinErrors(t *testing.T) {
	good := llama2cBin(2, []string{"<unk>", "ab"}, []float32{0, 0})
	negLen := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(negLen[8:], 0xFFFFFFFF)
	hugeLen := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(hugeLen[8:], 0x7FFFFFF0)
	cases := []struct {
		name   string
		data   []byte
		size   int
		offset int64
	}{
		{"empty", nil, 0, 0},
		{"header only", good[:4], 0, 4},
		{"cut in score", good[:6], 0, 4},
		{"cut in length", good[:10], 0, 8},
		{"cut in text", good[:len(good)-1], 0, 25},
		{"fewer than asked", good, 3, int64(len(good))},
		{"negative length", negLen, 0, 8},
		{"huge length", hugeLen, 0, 12},
	}
	for _, c := range cases {
		_, err := ParseLlama2cBin(c.data, c.size, "t.bin")
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.File != "t.bin" {
			t.Errorf("%s: want a ModelError naming the file, got %v", c.name, err)
			continue
		}
		if e.Offset != c.offset {
			t.Errorf("%s: offset %d, want %d (%v)", c.name, e.Offset, c.offset, err)
		}
	}
	// A vocabulary size far beyond the file must fail, not allocate it.
	if _, err := ParseLlama2cBin(good, 1<<40, "t.bin"); err == nil {
		t.Error("absurd vocabSize accepted")
	}
}

func TestLoadLlama2cBinMissingFile(t *testing.T) {
	_, err := LoadLlama2cBin(t.TempDir()+"/none.bin", 0)
	if omexerr.CategoryOf(err) != omexerr.Input {
		t.Fatalf("want an InputError, got %v", err)
	}
}

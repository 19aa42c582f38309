package tokenizer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// mustTokenizer builds a tokenizer or fails the test.
func mustTokenizer(t testing.TB, spec Spec, err error) *Tokenizer {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSPMTok512OnceUponATime(t *testing.T) {
	path := testfiles.SharedFile(t, "models/stories260K/tok512.bin")
	spec, err := LoadLlama2cBin(path, 512)
	tok := mustTokenizer(t, spec, err)
	got := tok.Encode("Once upon a time", EncodeOptions{AddBOS: true})
	want := []int{1, 403, 407, 261, 378} // llama2.c run.c, golden ids file
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "Once upon a time" {
		t.Fatalf("Decode = %q", s)
	}
}

// tinySPM is a small hand-made SentencePiece vocabulary for unit tests.
func tinySPM(t *testing.T, withBytes bool) *Tokenizer {
	t.Helper()
	spec := Spec{
		Kind:   SPM,
		Tokens: []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "c", "ab", "bc", "▁a", "▁ab", "<|u|>"},
		Scores: []float32{0, 0, 0, -1, -2, -3, -4, -5, -0.5, -6, -7, 0},
		Types:  []int32{2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},
		BOS:    1, EOS: 2, UNK: 0, PAD: -1,
		AddBOS: true, AddSpacePrefix: true, ByteFallback: withBytes,
	}
	if withBytes {
		for b := 0; b < 256; b++ {
			spec.Tokens = append(spec.Tokens, "<0x"+string("0123456789ABCDEF"[b>>4])+string("0123456789ABCDEF"[b&15])+">")
			spec.Scores = append(spec.Scores, 0)
			spec.Types = append(spec.Types, TypeByte)
		}
	}
	tok, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSPMMergeOrder(t *testing.T) {
	tok := tinySPM(t, true)
	// "▁abc": "bc" (-0.5) beats "▁a" (-6) and "ab" (-5); then "▁a" joins.
	if got, want := tok.Encode("abc", EncodeOptions{}), []int{9, 8}; !reflect.DeepEqual(got, want) {
		t.Fatalf("abc: %v, want %v", got, want)
	}
	// "▁ab": "ab" (-5) beats "▁a" (-6), then "▁ab" (-7).
	if got, want := tok.Encode("ab", EncodeOptions{}), []int{10}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ab: %v, want %v", got, want)
	}
	// A character with no piece falls back to its UTF-8 bytes.
	got := tok.Encode("aé", EncodeOptions{})
	want := []int{9, 12 + 0xC3, 12 + 0xA9}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("aé: %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "aé" {
		t.Fatalf("decode: %q", s)
	}
}

func TestSPMUnknownWithoutBytes(t *testing.T) {
	tok := tinySPM(t, false)
	// Two unknown characters in a row fuse into one <unk>.
	if got, want := tok.Encode("aéé", EncodeOptions{}), []int{9, 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestEncodeSpecialTokens(t *testing.T) {
	tok := tinySPM(t, true)
	// Control tokens are only parsed when asked; each text fragment gets
	// the space prefix, as llama.cpp does.
	got := tok.Encode("a<s>b", EncodeOptions{ParseSpecial: true, AddBOS: true, AddEOS: true})
	want := []int{1, 9, 1, 3, 5, 2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parse special: %v, want %v", got, want)
	}
	got = tok.Encode("a<s>", EncodeOptions{})
	for _, id := range got {
		if id == 1 {
			t.Fatalf("<s> parsed without ParseSpecial: %v", got)
		}
	}
	// User-defined tokens are always split out.
	got = tok.Encode("a<|u|>a", EncodeOptions{})
	want = []int{9, 11, 9}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("user-defined: %v, want %v", got, want)
	}
	if got := tok.Encode("", EncodeOptions{AddBOS: true}); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("empty: %v", got)
	}
}

func TestPartitionLongestFirst(t *testing.T) {
	spec := Spec{
		Kind:   SPM,
		Tokens: []string{"<unk>", "x", "y", "z", "w", "xy", "yzw"},
		Types:  []int32{2, 1, 1, 1, 1, 4, 4},
		BOS:    -1, EOS: -1, UNK: 0, PAD: -1,
	}
	tok, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	// llama.cpp cuts the longest special token out first, so "yzw" wins
	// over the earlier, overlapping "xy".
	if got, want := tok.Encode("xyzw", EncodeOptions{}), []int{1, 6}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDecodeStripsPrefixAfterBOS(t *testing.T) {
	tok := tinySPM(t, true)
	cases := []struct {
		ids  []int
		want string
	}{
		{[]int{1, 9, 3, 4}, "a a"},
		{[]int{9, 2, 1, 10}, "aab"},
		{[]int{3, 9}, " a"},
		{[]int{12 + ' ', 9}, "  a"}, // a byte token is literal text
		{[]int{11, 9}, "<|u|> a"},
		{[]int{0, -1, 999, 9}, "a"},
	}
	for _, c := range cases {
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
}

func TestSPMMergeRanks(t *testing.T) {
	// With merges, order decides, not scores (which are all zero here).
	spec := Spec{
		Kind:   SPM,
		Tokens: []string{"<unk>", "▁", "a", "b", "c", "ab", "bc", "▁a"},
		Types:  []int32{2, 1, 1, 1, 1, 1, 1, 1},
		Merges: []string{"a b", "▁ a", "b c"},
		BOS:    -1, EOS: -1, UNK: 0, PAD: -1, AddSpacePrefix: true,
	}
	tok, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("abc", EncodeOptions{}), []int{1, 5, 4}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// BenchmarkSPMEncode measures encoding English prose with Llama 2's
// 32000-piece vocabulary.
func BenchmarkSPMEncode(b *testing.B) {
	spec, err := LoadSentencePieceModel(testfiles.SharedFile(b, "tokenizers/llama2-tokenizer.model"))
	tok := mustTokenizer(b, spec, err)
	text := strings.Repeat("Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ", 100)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, EncodeOptions{AddBOS: true})
	}
}

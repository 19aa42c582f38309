package tokenizer

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
)

// exercise builds a tokenizer from a parsed spec and runs it on a few
// strings: whatever a loader accepts must not make the tokenizer panic.
func exercise(t *testing.T, spec Spec) {
	tok, err := New(spec)
	if err != nil {
		return
	}
	for _, s := range []string{"", "Once upon a time", " <s>é🦙\t\n", "\xff\xfe"} {
		ids := tok.Encode(s, EncodeOptions{AddBOS: true, AddEOS: true, ParseSpecial: true})
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) gave id %d outside the vocabulary", s, id)
			}
		}
		_ = tok.Decode(append(ids, -1, tok.VocabSize()))
	}
}

func FuzzParseLlama2cBin(f *testing.F) {
	if real := testfiles.OptionalFile("models/stories260K/tok512.bin"); real != nil {
		f.Add(real, 512)
		f.Add(real[:len(real)/2], 0)
	}
	f.Add(llama2cBin(6, []string{"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " a", "b"}, []float32{0, 0, 0, 0, -1, -2}), 0)
	f.Add(llama2cBin(1, []string{"x"}, []float32{float32(math.NaN())}), 3)
	f.Fuzz(func(t *testing.T, data []byte, vocabSize int) {
		spec, err := ParseLlama2cBin(data, vocabSize, "fuzz.bin")
		if err != nil {
			return
		}
		if vocabSize > 0 && len(spec.Tokens) != vocabSize {
			t.Fatalf("asked for %d tokens, got %d", vocabSize, len(spec.Tokens))
		}
		exercise(t, spec)
	})
}

func FuzzParseHFJSON(f *testing.F) {
	if real := trimmedHFJSON(testfiles.OptionalFile("models/tinystories-656k/tokenizer.json"), 300); real != nil {
		f.Add(real)
	}
	f.Add([]byte(`{"added_tokens":[{"id":3,"content":"<s>","special":true}],
		"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
		"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"ids":[3]}}},
		"model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>","vocab":{"<unk>":0,"▁":1,"a":2,"▁a":4,"<0x41>":5},"merges":["▁ a"]}}`))
	f.Add([]byte(`{"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first"},
		"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}}`))
	f.Add([]byte(`{"normalizer":{"type":"BertNormalizer","lowercase":true},"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseHFJSON(data, "fuzz.json")
		if err != nil {
			return
		}
		if len(spec.Types) != len(spec.Tokens) {
			t.Fatalf("%d types for %d tokens", len(spec.Types), len(spec.Tokens))
		}
		if spec.Kind == SPM { // the other kinds' encoders are tested with their own fuzz targets
			exercise(t, spec)
		}
	})
}

// trimmedHFJSON keeps a real tokenizer.json's pipeline but only the first n
// ids of its vocabulary and the merges among them: mutating the whole
// 86 KB file makes each exec slow, and the structure is what matters.
func trimmedHFJSON(data []byte, n int) []byte {
	var doc map[string]any
	if data == nil || json.Unmarshal(data, &doc) != nil {
		return nil
	}
	model, ok := doc["model"].(map[string]any)
	if !ok {
		return nil
	}
	vocab, _ := model["vocab"].(map[string]any)
	kept := map[string]any{}
	for piece, id := range vocab {
		if v, ok := id.(float64); ok && int(v) < n {
			kept[piece] = id
		}
	}
	model["vocab"] = kept
	var merges []any
	list, _ := model["merges"].([]any)
	for _, m := range list {
		if s, ok := m.(string); ok {
			l, r, _ := strings.Cut(s, " ")
			if kept[l] != nil && kept[r] != nil && kept[l+r] != nil {
				merges = append(merges, s)
			}
		}
	}
	model["merges"] = merges
	out, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	return out
}

// protoModel writes a small SentencePiece ModelProto.
func protoModel(pieces []string, scores []float32, types []int32, modelType uint64) []byte {
	field := func(out []byte, num int, wire int) []byte { return binary.AppendUvarint(out, uint64(num<<3|wire)) }
	bytesField := func(out []byte, num int, b []byte) []byte {
		out = field(out, num, wireBytes)
		out = binary.AppendUvarint(out, uint64(len(b)))
		return append(out, b...)
	}
	var out []byte
	for i, p := range pieces {
		var sp []byte
		sp = bytesField(sp, pbPieceText, []byte(p))
		sp = field(sp, pbPieceScore, wireFixed32)
		sp = binary.LittleEndian.AppendUint32(sp, math.Float32bits(scores[i]))
		sp = field(sp, pbPieceType, wireVarint)
		sp = binary.AppendUvarint(sp, uint64(types[i]))
		out = bytesField(out, pbModelPieces, sp)
	}
	var trainer []byte
	trainer = field(trainer, pbTrainerModelType, wireVarint)
	trainer = binary.AppendUvarint(trainer, modelType)
	trainer = field(trainer, pbTrainerByteFallback, wireVarint)
	trainer = binary.AppendUvarint(trainer, 1)
	trainer = field(trainer, pbTrainerPadID, wireVarint)
	trainer = binary.AppendUvarint(trainer, math.MaxUint64) // -1, sign-extended
	out = bytesField(out, pbModelTrainer, trainer)
	var norm []byte
	norm = field(norm, pbNormalizerAddDummyPrefix, wireVarint)
	norm = binary.AppendUvarint(norm, 1)
	return bytesField(out, pbModelNormalizer, norm)
}

func TestProtoModelSeedParses(t *testing.T) {
	data := protoModel([]string{"<unk>", "<s>", "</s>", "▁", "a", "▁a"}, []float32{0, 0, 0, -1, -2, -3},
		[]int32{TypeUnknown, TypeControl, TypeControl, TypeNormal, TypeNormal, TypeNormal}, 2)
	spec, err := ParseSentencePieceModel(data, "seed.model")
	if err != nil {
		t.Fatal(err)
	}
	tok := mustTokenizer(t, spec, nil)
	if got := tok.Encode("a", EncodeOptions{AddBOS: true}); len(got) != 2 || got[0] != 1 || got[1] != 5 {
		t.Fatalf("Encode = %v", got)
	}
	if spec.PAD != -1 || !spec.ByteFallback || !spec.AddSpacePrefix {
		t.Fatalf("settings: pad %d fallback %v prefix %v", spec.PAD, spec.ByteFallback, spec.AddSpacePrefix)
	}
	unigram := protoModel([]string{"<unk>"}, []float32{0}, []int32{TypeUnknown}, 1)
	if _, err := ParseSentencePieceModel(unigram, "u.model"); err == nil {
		t.Fatal("unigram model accepted")
	}
}

func FuzzParseSentencePieceModel(f *testing.F) {
	f.Add(protoModel([]string{"<unk>", "<s>", "</s>", "▁", "a", "▁a", "<0x41>"}, []float32{0, 0, 0, -1, -2, -3, 0},
		[]int32{TypeUnknown, TypeControl, TypeControl, TypeNormal, TypeNormal, TypeNormal, TypeByte}, 2))
	f.Add(protoModel([]string{"x"}, []float32{0}, []int32{TypeUserDefined}, 1))
	if real := testfiles.OptionalFile("tokenizers/llama2-tokenizer.model"); real != nil {
		f.Add(real[:4096]) // the start of the real file: pieces, then a cut
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSentencePieceModel(data, "fuzz.model")
		if err != nil {
			return
		}
		exercise(t, spec)
	})
}

// FuzzSPMEncode checks on Llama 2's real vocabulary that encoding never
// loses text: byte fallback covers every byte, so decoding gives the input
// back, except that a literal "▁" in the input decodes as a space (it is
// SentencePiece's own space mark; sentencepiece loses it the same way).
func FuzzSPMEncode(f *testing.F) {
	spec, err := LoadSentencePieceModel(testfiles.SharedFile(f, "tokenizers/llama2-tokenizer.model"))
	tok := mustTokenizer(f, spec, err)
	for _, s := range []string{"", " ", "Hello world", "  \t\n x", "🦙 我想在 កាន់", "\xf0abc\xff", "<s></s><unk>", "333333"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, EncodeOptions{})
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
		back := tok.Decode(ids)
		if want := strings.ReplaceAll(s, spaceMark, " "); back != want {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, back, ids)
		}
		if streamed := strings.Join(streamAll(tok, ids), ""); streamed != back {
			t.Fatalf("stream %q != Decode %q", streamed, back)
		}
	})
}

func TestTrimmedHFJSONSeedParses(t *testing.T) {
	data := trimmedHFJSON(testfiles.OptionalFile("models/tinystories-656k/tokenizer.json"), 300)
	if data == nil {
		t.Skip("TinyStories tokenizer.json not available")
	}
	spec, err := ParseHFJSON(data, "seed.json")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != SPM || len(spec.Tokens) != 300 || len(spec.Merges) == 0 || spec.BOS != 1 {
		t.Fatalf("trimmed seed: kind %s, %d tokens, %d merges, bos %d", spec.Kind, len(spec.Tokens), len(spec.Merges), spec.BOS)
	}
}

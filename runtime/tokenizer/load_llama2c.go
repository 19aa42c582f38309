package tokenizer

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// LoadLlama2cBin reads a llama2.c tokenizer.bin. vocabSize is the number of
// tokens to read (the checkpoint's vocab_size); <= 0 reads to the end of
// the file.
func LoadLlama2cBin(path string, vocabSize int) (Spec, error) {
	data, err := readTokenizerFile(path)
	if err != nil {
		return Spec{}, err
	}
	return ParseLlama2cBin(data, vocabSize, path)
}

// ParseLlama2cBin parses the bytes of a llama2.c tokenizer.bin: an int32
// max_token_length, then per token a float32 score, an int32 byte length
// and the bytes, all little-endian. name is the file name used in errors.
//
// llama2.c's export writes SentencePiece's "▁" as a plain space and BOS/EOS
// as "\n<s>\n" and "\n</s>\n"; both are turned back into SentencePiece
// form so the spec matches the same vocabulary from other files. Token
// types follow the Llama 2 layout the format assumes: 0 <unk>, 1 <s>,
// 2 </s>, then the <0xXX> byte tokens.
func ParseLlama2cBin(data []byte, vocabSize int, name string) (Spec, error) {
	bad := func(off int, format string, args ...any) (Spec, error) {
		return Spec{}, omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(name).WithOffset(int64(off))
	}
	truncated := func(off int, what string, id int) (Spec, error) {
		return Spec{}, omexerr.Modelf("model.truncated", "tokenizer.bin ends inside the %s of token %d", what, id).
			WithFile(name).WithOffset(int64(off))
	}
	if len(data) < 4 {
		return Spec{}, omexerr.Modelf("model.truncated", "tokenizer.bin is %d bytes, too short for its header", len(data)).
			WithFile(name).WithOffset(0)
	}
	if maxLen := int32(binary.LittleEndian.Uint32(data)); maxLen < 0 {
		return bad(0, "negative max_token_length %d", maxLen)
	}
	// Each token takes at least 8 bytes, which bounds what a claimed
	// vocabulary size may make us allocate.
	capHint := (len(data) - 4) / 8
	if vocabSize > 0 {
		capHint = min(capHint, vocabSize)
	}
	spec := Spec{
		Kind:   SPM,
		Tokens: make([]string, 0, capHint),
		Scores: make([]float32, 0, capHint),
		Types:  make([]int32, 0, capHint),
	}
	off := 4
	for id := 0; vocabSize <= 0 || id < vocabSize; id++ {
		if vocabSize <= 0 && off == len(data) {
			break
		}
		if len(data)-off < 4 {
			return truncated(off, "score", id)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		off += 4
		if len(data)-off < 4 {
			return truncated(off, "length", id)
		}
		n := int32(binary.LittleEndian.Uint32(data[off:]))
		if n < 0 {
			return bad(off, "token %d has negative length %d", id, n)
		}
		off += 4
		if int64(n) > int64(len(data)-off) {
			return bad(off, "token %d claims %d bytes but only %d remain", id, n, len(data)-off)
		}
		text := string(data[off : off+int(n)])
		off += int(n)
		spec.Tokens = append(spec.Tokens, text)
		spec.Scores = append(spec.Scores, score)
		spec.Types = append(spec.Types, TypeNormal)
	}
	if len(spec.Tokens) == 0 {
		return bad(off, "tokenizer.bin holds no tokens")
	}
	for id, text := range spec.Tokens {
		switch {
		case id == 0:
			spec.Types[id] = TypeUnknown
		case id == 1 || id == 2:
			spec.Types[id] = TypeControl
			spec.Tokens[id] = strings.Trim(text, "\n")
		default:
			if _, ok := parseByteToken(text); ok {
				spec.Types[id] = TypeByte
			} else {
				spec.Tokens[id] = strings.ReplaceAll(text, " ", spaceMark)
			}
		}
	}
	n := len(spec.Tokens)
	spec.UNK, spec.BOS, spec.EOS, spec.PAD = 0, idOrNone(1, n), idOrNone(2, n), -1
	spec.AddBOS = spec.BOS >= 0
	spec.AddSpacePrefix = true
	spec.ByteFallback = true
	return spec, nil
}

// idOrNone returns id when a vocabulary of n tokens has it, else -1.
func idOrNone(id, n int) int {
	if id < n {
		return id
	}
	return -1
}

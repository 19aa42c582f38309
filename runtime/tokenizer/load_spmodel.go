package tokenizer

import (
	"encoding/binary"
	"math"
	"regexp"

	"github.com/omex-dev/omex/omexerr"
)

// LoadSentencePieceModel reads a SentencePiece tokenizer.model (the
// ModelProto protobuf of google/sentencepiece), e.g. Llama 2's.
func LoadSentencePieceModel(path string) (Spec, error) {
	data, err := readTokenizerFile(path)
	if err != nil {
		return Spec{}, err
	}
	return ParseSentencePieceModel(data, path)
}

// The fields of sentencepiece_model.proto that matter here.
const (
	pbModelPieces     = 1 // ModelProto.pieces (SentencePiece)
	pbModelTrainer    = 2 // ModelProto.trainer_spec
	pbModelNormalizer = 3 // ModelProto.normalizer_spec

	pbPieceText  = 1 // SentencePiece.piece
	pbPieceScore = 2 // SentencePiece.score
	pbPieceType  = 3 // SentencePiece.type

	pbTrainerModelType    = 3  // TrainerSpec.model_type: 1 UNIGRAM (default), 2 BPE
	pbTrainerByteFallback = 35 // TrainerSpec.byte_fallback
	pbTrainerUnkID        = 40
	pbTrainerBosID        = 41
	pbTrainerEosID        = 42
	pbTrainerPadID        = 43

	pbNormalizerAddDummyPrefix = 3 // NormalizerSpec.add_dummy_prefix (default true)
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// tiktokenLine recognises the first line of a tiktoken ranks file
// ("<base64> <rank>"), which shares the name tokenizer.model (Llama 3).
var tiktokenLine = regexp.MustCompile(`^[A-Za-z0-9+/=]+ [0-9]+\r?\n`)

// ParseSentencePieceModel parses the bytes of a SentencePiece model. Only
// BPE models are accepted: a unigram model needs a different algorithm.
// name is the file name used in errors.
func ParseSentencePieceModel(data []byte, name string) (Spec, error) {
	if tiktokenLine.Match(data[:min(len(data), 256)]) {
		return Spec{}, omexerr.Modelf("model.bad_tokenizer",
			"this is a tiktoken ranks file (Llama 3 style), not a SentencePiece protobuf model").
			WithFile(name).WithOffset(0)
	}
	p := &pbReader{data: data, name: name}
	spec := Spec{Kind: SPM, UNK: 0, BOS: 1, EOS: 2, PAD: -1, AddSpacePrefix: true}
	modelType := uint64(1) // UNIGRAM, the proto default
	sawTrainer := false
	for !p.done() {
		field, wire, err := p.key()
		if err != nil {
			return Spec{}, err
		}
		switch {
		case field == pbModelPieces && wire == wireBytes:
			sub, err := p.message()
			if err != nil {
				return Spec{}, err
			}
			text, score, typ, err := parsePiece(sub)
			if err != nil {
				return Spec{}, err
			}
			spec.Tokens = append(spec.Tokens, text)
			spec.Scores = append(spec.Scores, score)
			spec.Types = append(spec.Types, typ)
		case field == pbModelTrainer && wire == wireBytes:
			sub, err := p.message()
			if err != nil {
				return Spec{}, err
			}
			sawTrainer = true
			if err := parseTrainer(sub, &spec, &modelType); err != nil {
				return Spec{}, err
			}
		case field == pbModelNormalizer && wire == wireBytes:
			sub, err := p.message()
			if err != nil {
				return Spec{}, err
			}
			if err := parseNormalizer(sub, &spec); err != nil {
				return Spec{}, err
			}
		case field <= pbModelNormalizer:
			return Spec{}, p.corrupt(p.off, "field %d has wire type %d, not a SentencePiece ModelProto", field, wire)
		default:
			if err := p.skip(wire); err != nil {
				return Spec{}, err
			}
		}
	}
	if len(spec.Tokens) == 0 {
		return Spec{}, p.corrupt(0, "no pieces: not a SentencePiece model")
	}
	if !sawTrainer || modelType != 2 {
		return Spec{}, omexerr.Modelf("model.unsupported_tokenizer",
			"SentencePiece model type %d is not supported (only BPE, type 2, is)", modelType).WithFile(name)
	}
	n := len(spec.Tokens)
	for _, id := range []*int{&spec.UNK, &spec.BOS, &spec.EOS, &spec.PAD} {
		if *id < 0 || *id >= n {
			*id = -1
		}
	}
	spec.AddBOS = spec.BOS >= 0
	return spec, nil
}

// parsePiece reads one ModelProto.SentencePiece.
func parsePiece(p *pbReader) (string, float32, int32, error) {
	text, score, typ := "", float32(0), TypeNormal
	for !p.done() {
		field, wire, err := p.key()
		if err != nil {
			return "", 0, 0, err
		}
		switch {
		case field == pbPieceText && wire == wireBytes:
			b, err := p.bytes()
			if err != nil {
				return "", 0, 0, err
			}
			text = string(b)
		case field == pbPieceScore && wire == wireFixed32:
			v, err := p.fixed32()
			if err != nil {
				return "", 0, 0, err
			}
			score = math.Float32frombits(v)
		case field == pbPieceType && wire == wireVarint:
			v, err := p.varint()
			if err != nil {
				return "", 0, 0, err
			}
			if v < uint64(TypeNormal) || v > uint64(TypeByte) {
				return "", 0, 0, p.corrupt(p.off, "piece type %d is not one SentencePiece defines", v)
			}
			typ = int32(v)
		default:
			if err := p.skip(wire); err != nil {
				return "", 0, 0, err
			}
		}
	}
	return text, score, typ, nil
}

// parseTrainer reads the TrainerSpec fields that change tokenization.
func parseTrainer(p *pbReader, spec *Spec, modelType *uint64) error {
	for !p.done() {
		field, wire, err := p.key()
		if err != nil {
			return err
		}
		if wire != wireVarint {
			if err := p.skip(wire); err != nil {
				return err
			}
			continue
		}
		v, err := p.varint()
		if err != nil {
			return err
		}
		// int32 fields travel as sign-extended 64-bit varints.
		id := int(int32(v))
		switch field {
		case pbTrainerModelType:
			*modelType = v
		case pbTrainerByteFallback:
			spec.ByteFallback = v != 0
		case pbTrainerUnkID:
			spec.UNK = id
		case pbTrainerBosID:
			spec.BOS = id
		case pbTrainerEosID:
			spec.EOS = id
		case pbTrainerPadID:
			spec.PAD = id
		}
	}
	return nil
}

// parseNormalizer reads add_dummy_prefix from the NormalizerSpec.
func parseNormalizer(p *pbReader, spec *Spec) error {
	for !p.done() {
		field, wire, err := p.key()
		if err != nil {
			return err
		}
		if field == pbNormalizerAddDummyPrefix && wire == wireVarint {
			v, err := p.varint()
			if err != nil {
				return err
			}
			spec.AddSpacePrefix = v != 0
			continue
		}
		if err := p.skip(wire); err != nil {
			return err
		}
	}
	return nil
}

// pbReader reads protobuf wire format from a byte slice, checking every
// length against what remains. base is the slice's offset in the file.
type pbReader struct {
	data []byte
	off  int
	base int
	name string
}

func (p *pbReader) done() bool { return p.off >= len(p.data) }

func (p *pbReader) corrupt(off int, format string, args ...any) *omexerr.Error {
	return omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(p.name).WithOffset(int64(p.base + off))
}

func (p *pbReader) varint() (uint64, error) {
	v, n := binary.Uvarint(p.data[p.off:])
	if n <= 0 {
		return 0, p.corrupt(p.off, "bad or truncated protobuf varint")
	}
	p.off += n
	return v, nil
}

func (p *pbReader) key() (field int, wire int, err error) {
	start := p.off
	v, err := p.varint()
	if err != nil {
		return 0, 0, err
	}
	field, wire = int(v>>3), int(v&7)
	if field == 0 || v>>3 > math.MaxInt32 {
		return 0, 0, p.corrupt(start, "protobuf field number %d is invalid", v>>3)
	}
	return field, wire, nil
}

func (p *pbReader) fixed32() (uint32, error) {
	if len(p.data)-p.off < 4 {
		return 0, p.corrupt(p.off, "truncated protobuf fixed32")
	}
	v := binary.LittleEndian.Uint32(p.data[p.off:])
	p.off += 4
	return v, nil
}

func (p *pbReader) bytes() ([]byte, error) {
	start := p.off
	n, err := p.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(p.data)-p.off) {
		return nil, p.corrupt(start, "protobuf field of %d bytes runs past the end (%d remain)", n, len(p.data)-p.off)
	}
	b := p.data[p.off : p.off+int(n)]
	p.off += int(n)
	return b, nil
}

// message returns a reader over an embedded message.
func (p *pbReader) message() (*pbReader, error) {
	b, err := p.bytes()
	if err != nil {
		return nil, err
	}
	return &pbReader{data: b, base: p.base + p.off - len(b), name: p.name}, nil
}

func (p *pbReader) skip(wire int) error {
	switch wire {
	case wireVarint:
		_, err := p.varint()
		return err
	case wireFixed64:
		if len(p.data)-p.off < 8 {
			return p.corrupt(p.off, "truncated protobuf fixed64")
		}
		p.off += 8
		return nil
	case wireBytes:
		_, err := p.bytes()
		return err
	case wireFixed32:
		_, err := p.fixed32()
		return err
	}
	return p.corrupt(p.off, "protobuf wire type %d is not supported", wire)
}

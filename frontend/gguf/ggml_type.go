package gguf

import "fmt"

// GGMLType is the element type of a tensor in a GGUF file (ggml_type).
type GGMLType uint32

// The ggml types this reader converts; the others are listed in ggmlTypes
// so that files holding them still parse and name them in errors.
const (
	GGMLF32  GGMLType = 0
	GGMLF16  GGMLType = 1
	GGMLQ4_0 GGMLType = 2
	GGMLQ8_0 GGMLType = 8
	GGMLBF16 GGMLType = 30
)

// ggmlTypeInfo is a type's name and storage: blockSize elements take
// typeSize bytes.
type ggmlTypeInfo struct {
	name      string
	blockSize uint64
	typeSize  uint64
}

// ggmlTypes lists every type ggml currently defines. Removed ids (4, 5,
// 31-33, 36-38) are absent, so a file using them is rejected as corrupt.
var ggmlTypes = map[GGMLType]ggmlTypeInfo{
	0:  {"F32", 1, 4},
	1:  {"F16", 1, 2},
	2:  {"Q4_0", 32, 18},
	3:  {"Q4_1", 32, 20},
	6:  {"Q5_0", 32, 22},
	7:  {"Q5_1", 32, 24},
	8:  {"Q8_0", 32, 34},
	9:  {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84},
	11: {"Q3_K", 256, 110},
	12: {"Q4_K", 256, 144},
	13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210},
	15: {"Q8_K", 256, 292},
	16: {"IQ2_XXS", 256, 66},
	17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98},
	19: {"IQ1_S", 256, 50},
	20: {"IQ4_NL", 32, 18},
	21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82},
	23: {"IQ4_XS", 256, 136},
	24: {"I8", 1, 1},
	25: {"I16", 1, 2},
	26: {"I32", 1, 4},
	27: {"I64", 1, 8},
	28: {"F64", 1, 8},
	29: {"IQ1_M", 256, 56},
	30: {"BF16", 1, 2},
	34: {"TQ1_0", 256, 54},
	35: {"TQ2_0", 256, 66},
	39: {"MXFP4", 32, 17},
}

// String returns ggml's name for the type, e.g. "Q8_0".
func (t GGMLType) String() string {
	if info, ok := ggmlTypes[t]; ok {
		return info.name
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

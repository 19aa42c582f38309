package format

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the omex_version this package writes; Open accepts any version
// with the same major number.
const Version = "1.0"

// Paths of the package's files, relative to the package directory and
// slash-separated (as they appear in manifest.json).
const (
	MetadataFile     = "metadata.json"
	GraphFile        = "graph.json"
	ManifestFile     = "manifest.json"
	WeightsDir       = "weights"
	IndexFile        = "weights/index.json"
	QuantizationFile = "weights/quantization.json"
	TokenizerDir     = "tokenizer"
	TokenizerFile    = "tokenizer/tokenizer.json"
	VocabFile        = "tokenizer/vocab.txt"
	MergesFile       = "tokenizer/merges.txt"
	ScoresFile       = "tokenizer/scores.bin"
	TokenTypesFile   = "tokenizer/token_types.bin"
	AgentsDir        = "agents"
	AgentFile        = "agents/default_agent.json"
	PreprocessorsDir = "preprocessors"
	PostprocessDir   = "postprocessors"
	ExtensionsDir    = "extensions"
)

// userDirs are the directories meant for files added after import (plugins);
// Verify does not require their files to be in the manifest.
var userDirs = []string{PreprocessorsDir, PostprocessDir, ExtensionsDir}

// Layer numbers of the two weight files that do not belong to a transformer
// block. In the Go API they are negative; on disk (the record's layer field)
// they are 0xFFFFFFFF and 0xFFFFFFFE.
const (
	EmbeddingLayer = -1 // weights/embedding.bin: token embedding
	HeadLayer      = -2 // weights/head.bin: final norm and output projection
)

// MaxLayer is the largest block layer number a package may use.
const MaxLayer = 1<<16 - 1

const (
	diskEmbeddingLayer uint32 = 0xFFFFFFFF
	diskHeadLayer      uint32 = 0xFFFFFFFE
)

// validLayer reports whether layer is a block layer or one of the special ones.
func validLayer(layer int) bool {
	return layer == EmbeddingLayer || layer == HeadLayer || (layer >= 0 && layer <= MaxLayer)
}

// layerToDisk encodes a valid layer number for the record header.
func layerToDisk(layer int) uint32 {
	switch layer {
	case EmbeddingLayer:
		return diskEmbeddingLayer
	case HeadLayer:
		return diskHeadLayer
	}
	return uint32(layer)
}

// layerFromDisk decodes the record header's layer field.
func layerFromDisk(v uint32) (int, bool) {
	switch {
	case v == diskEmbeddingLayer:
		return EmbeddingLayer, true
	case v == diskHeadLayer:
		return HeadLayer, true
	case v <= MaxLayer:
		return int(v), true
	}
	return 0, false
}

// WeightFileName is the name, inside weights/, of the file that holds the
// records of layer: "layer_N.bin", "embedding.bin" or "head.bin".
func WeightFileName(layer int) string {
	switch layer {
	case EmbeddingLayer:
		return "embedding.bin"
	case HeadLayer:
		return "head.bin"
	}
	return fmt.Sprintf("layer_%d.bin", layer)
}

// layerOfFileName inverts WeightFileName; ok is false for any other name.
// It accepts only the canonical spelling so that an index cannot point
// outside weights/ or at two names for one file.
func layerOfFileName(name string) (int, bool) {
	switch name {
	case "embedding.bin":
		return EmbeddingLayer, true
	case "head.bin":
		return HeadLayer, true
	}
	digits, ok := strings.CutPrefix(name, "layer_")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".bin")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || n > MaxLayer || strconv.Itoa(n) != digits {
		return 0, false
	}
	return n, true
}

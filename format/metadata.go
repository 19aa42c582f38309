package format

import (
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Metadata is metadata.json: what the model is, where it came from and what
// it needs to run.
type Metadata struct {
	OmexVersion             string       `json:"omex_version"`
	ModelName               string       `json:"model_name"`
	ModelVersion            string       `json:"model_version"`
	ModelArchitecture       string       `json:"model_architecture"`
	Parameters              int64        `json:"parameters"`
	CreationDate            string       `json:"creation_date"` // RFC 3339, UTC
	CreatedBy               string       `json:"created_by"`
	License                 string       `json:"license"`
	Description             string       `json:"description"`
	SourceFormat            string       `json:"source_format"`
	Quantization            Quantization `json:"quantization"`
	HardwareTargets         []string     `json:"hardware_targets"`
	MinimumRequirements     Requirements `json:"minimum_requirements"`
	RecommendedRequirements Requirements `json:"recommended_requirements"`
}

// Quantization summarizes how the weights are quantized. Type is "none",
// one quantized dtype name ("q8_0", "q4_0") or "mixed"; Method names the
// block scheme (see weights/quantization.json for the exact layout).
type Quantization struct {
	Type      string `json:"type"`
	Method    string `json:"method"`
	Symmetric bool   `json:"symmetric"`
}

// Requirements is what a machine needs to load and run the model.
type Requirements struct {
	MemoryMB    int64    `json:"memory_mb"`
	DiskMB      int64    `json:"disk_mb"`
	CPUFeatures []string `json:"cpu_features,omitempty"`
}

// validate checks the fields a reader depends on.
func (m *Metadata) validate() *omexerr.Error {
	major, _, _ := strings.Cut(m.OmexVersion, ".")
	wantMajor, _, _ := strings.Cut(Version, ".")
	switch {
	case m.OmexVersion == "":
		return omexerr.Modelf("model.bad_metadata", "omex_version is missing")
	case major != wantMajor:
		return omexerr.Modelf("model.unsupported_version", "omex_version %q is not supported (want %s.x)", m.OmexVersion, wantMajor)
	case m.ModelName == "":
		return omexerr.Modelf("model.bad_metadata", "model_name is missing")
	case m.Parameters < 0:
		return omexerr.Modelf("model.bad_metadata", "parameters %d is negative", m.Parameters)
	case m.MinimumRequirements.MemoryMB < 0 || m.MinimumRequirements.DiskMB < 0 ||
		m.RecommendedRequirements.MemoryMB < 0 || m.RecommendedRequirements.DiskMB < 0:
		return omexerr.Modelf("model.bad_metadata", "negative requirement")
	}
	return nil
}

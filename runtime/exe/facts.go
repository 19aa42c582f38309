package exe

import (
	"fmt"
	"io"
	"runtime"
	"strings"
)

// Facts are what omexc build knew when it made the executable: they are
// compiled into its generated main and shown by --version and --info, so
// a binary found on a device says where it came from. Nothing here may
// vary between two builds of the same inputs (no times, no paths).
type Facts struct {
	Compiler    string     // omexc's version
	Target      string     // target name, e.g. "arm64-neon"
	GOOS        string     // operating system built for
	GOARCH      string     // architecture built for
	Level       string     // the Go instruction-set level, e.g. "GOAMD64=v3"; "" when none
	Backend     string     // what runs the model: "reference" (runtime/model) or a code generator
	Model       string     // the model's name
	ModelSHA256 string     // sha256 of the model input omexc read (docs/BUILD.md)
	Quant       string     // the precision policy (--quant)
	WeightTypes string     // how many weights of each dtype the executable carries, e.g. "16 f32, 31 q8_0"
	Flags       []string   // the build flags that shaped the executable
	Plan        []PlanFunc // the optimized IR's functions
}

// PlanFunc summarizes one function of the optimized IR the executable was
// built from.
type PlanFunc struct {
	Name         string `json:"function"`
	Instructions int    `json:"instructions"`
	ArenaBytes   int64  `json:"arena_bytes,omitempty"` // from the memory plan; 0 when the module was not planned
}

// writeVersion prints --version for the program called name: one fact per
// line.
func (f *Facts) writeVersion(w io.Writer, name string) {
	level := ""
	if f.Level != "" {
		level = ", " + f.Level
	}
	fmt.Fprintf(w, "%s: an OMEX executable\n", name)
	fmt.Fprintf(w, "compiler:     omexc %s\n", f.Compiler)
	fmt.Fprintf(w, "go:           %s\n", runtime.Version())
	fmt.Fprintf(w, "target:       %s (%s/%s%s)\n", f.Target, f.GOOS, f.GOARCH, level)
	fmt.Fprintf(w, "backend:      %s\n", f.Backend)
	fmt.Fprintf(w, "model:        %s\n", f.Model)
	fmt.Fprintf(w, "model sha256: %s\n", f.ModelSHA256)
	fmt.Fprintf(w, "quantization: %s (weights: %s)\n", f.Quant, f.WeightTypes)
	fmt.Fprintf(w, "build flags:  %s\n", strings.Join(f.Flags, " "))
}

package llama2c

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

// FuzzParse feeds arbitrary bytes to the parser and reads every tensor of
// whatever parses: it must never panic, and must fail only with a
// ModelError naming the file.
func FuzzParse(f *testing.F) {
	small := newSynth(8, 16, 2, 2, 1, 6, 4, true, 11)
	f.Add(small.legacy())
	f.Add(small.version1())
	v2, _ := small.version2(8)
	f.Add(v2)
	unshared := newSynth(32, 32, 1, 4, 2, 4, 2, false, 12)
	f.Add(unshared.legacy())
	v2, _ = unshared.version2(32)
	f.Add(v2)
	// The real checkpoints' headers and first weights, when the shared test
	// data is here. Whole files (0.3 and 1 MB) stall the fuzzer: it spends
	// its time minimizing them; the corruption tests cover them whole.
	for _, name := range []string{"stories260K.bin", "stories260K_q80.bin"} {
		if p, err := testfiles.SharedPath("models/stories260K/" + name); err == nil {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b[:min(len(b), 1024)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseWeights(bytes.NewReader(data), int64(len(data)), "fuzz.bin")
		if err != nil {
			var e *omexerr.Error
			if !errors.As(err, &e) || e.Category != omexerr.Model || e.File != "fuzz.bin" || e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		cfg := c.Config()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed a config that does not validate: %v", err)
		}
		for _, info := range c.Tensors() {
			x, err := c.ReadTensor(info.Name)
			if err != nil {
				t.Fatalf("%s: %v", info.Name, err)
			}
			if x.DType != info.DType || !slices.Equal(x.Shape, info.Shape) || len(x.Data) != x.DType.DataBytes(x.Elements()) {
				t.Fatalf("%s: read %s %v with %d bytes, listed %s %v", info.Name, x.DType, x.Shape, len(x.Data), info.DType, info.Shape)
			}
			if x.DType.Quantized() && len(x.Scales) != x.Elements()/32 {
				t.Fatalf("%s: %d scales for %d elements", info.Name, len(x.Scales), x.Elements())
			}
		}
	})
}

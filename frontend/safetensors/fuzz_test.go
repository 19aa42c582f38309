package safetensors

import (
	"bytes"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

// FuzzParse checks that no input panics Parse or ReadTensor, that every
// failure is a categorized error, and that whatever Parse accepts is sound.
func FuzzParse(f *testing.F) {
	_, good := sample(f)
	f.Add(good)
	f.Add(withHeader(`{"__metadata__":{"model.embed_tokens.weight":"w"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(withHeader(`{"w":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]},"v":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[2,5]}}`, make([]byte, 5)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			if omexerr.CategoryOf(err) != omexerr.Model {
				t.Fatalf("uncategorized error: %v", err)
			}
			return
		}
		var prevEnd int64
		for _, ti := range file.Tensors {
			if ti.Begin < 0 || ti.End < ti.Begin || file.DataStart+ti.End > int64(len(data)) {
				t.Fatalf("tensor %q range [%d,%d) outside the file", ti.Name, ti.Begin, ti.End)
			}
			if ti.Begin < prevEnd && ti.Begin != ti.End {
				t.Fatalf("tensor %q overlaps", ti.Name)
			}
			prevEnd = max(prevEnd, ti.End)
			tt, err := file.ReadTensor(ti.Name)
			if _, loadable := DTypeOf(ti.DType); !loadable {
				if oe, ok := omexerr.As(err); !ok || oe.Code != "model.unsupported_dtype" {
					t.Fatalf("tensor %q of dtype %s: %v", ti.Name, ti.DType, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("tensor %q accepted by Parse but unreadable: %v", ti.Name, err)
			}
			if int64(len(tt.Data)) != ti.Size() || tt.DType.DataBytes(tt.Elements()) != len(tt.Data) {
				t.Fatalf("tensor %q: %d bytes for %v %v", ti.Name, len(tt.Data), tt.DType, tt.Shape)
			}
		}
	})
}

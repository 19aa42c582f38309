package storiesq80_sse

import (
	"testing"

	"github.com/omex-dev/omex/codegen/goasm/internal/modeltest"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/tensor"
)

func TestGeneratedModel(t *testing.T) {
	modeltest.Check(t, "storiesq80_sse", func(get func(string) (*tensor.Tensor, error)) (generate.Model, error) {
		return NewFromWeights(get)
	})
}

func TestUpToDate(t *testing.T) { modeltest.UpToDate(t, "storiesq80_sse") }

func BenchmarkDecode(b *testing.B) {
	modeltest.Bench(b, "storiesq80_sse", func(get func(string) (*tensor.Tensor, error)) (generate.Model, error) {
		return NewFromWeights(get)
	})
}

package stories_avx2

import (
	"testing"

	"github.com/omex-dev/omex/codegen/goasm/internal/modeltest"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/tensor"
)

func TestGeneratedModel(t *testing.T) {
	modeltest.Check(t, "stories_avx2", func(get func(string) (*tensor.Tensor, error)) (generate.Model, error) {
		return NewFromWeights(get)
	})
}

func TestUpToDate(t *testing.T) { modeltest.UpToDate(t, "stories_avx2") }

func BenchmarkDecode(b *testing.B) {
	modeltest.Bench(b, "stories_avx2", func(get func(string) (*tensor.Tensor, error)) (generate.Model, error) {
		return NewFromWeights(get)
	})
}

func BenchmarkPrefill(b *testing.B) {
	modeltest.BenchPrefill(b, "stories_avx2", func(get func(string) (*tensor.Tensor, error)) (generate.Model, error) {
		return NewFromWeights(get)
	})
}

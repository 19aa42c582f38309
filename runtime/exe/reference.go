package exe

import (
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
)

// NewModel builds the model a produced executable generates with from its
// opened bundle. A code generator's package provides one for its schedule
// and kernels; Reference is the portable one.
type NewModel func(b *Bundle) (generate.Model, error)

// Reference runs the reference runtime (runtime/model) over the bundle's
// weights, in place: F32 weights are read straight from the mapping, other
// types are dequantized as they are read. It is the backend of generic
// builds and the fallback of every other.
func Reference(b *Bundle) (generate.Model, error) {
	m, err := model.New(b.Config(), b.Tensor)
	if err != nil {
		return nil, err
	}
	return generate.Reference(m), nil
}

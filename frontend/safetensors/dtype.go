package safetensors

import "github.com/omex-dev/omex/tensor"

// dtypeBits is the element width in bits of every dtype the format defines,
// so a header can be size-checked even when its dtype is one we cannot load.
var dtypeBits = map[string]int64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// loadable maps the dtypes OMEX keeps as they are to its own element types.
var loadable = map[string]tensor.DType{
	"F32":  tensor.F32,
	"F16":  tensor.F16,
	"BF16": tensor.BF16,
}

// DTypeOf returns the OMEX element type of a safetensors dtype name, and
// whether the data can be loaded as it is.
func DTypeOf(name string) (tensor.DType, bool) {
	d, ok := loadable[name]
	return d, ok
}

package format

import "github.com/omex-dev/omex/tensor"

// KVCache gives the size of a decoder's key/value cache: two tensors (K and
// V) of ContextLength x KVHeads x HeadDim elements per layer.
type KVCache struct {
	Layers          int
	KVHeads         int
	HeadDim         int
	ContextLength   int
	BytesPerElement int // 0 means 4 (float32)
}

// Bytes is the cache's size in bytes.
func (k KVCache) Bytes() int64 {
	per := int64(k.BytesPerElement)
	if per <= 0 {
		per = 4
	}
	n := 2 * int64(max(k.Layers, 0)) * int64(max(k.ContextLength, 0)) * int64(max(k.KVHeads, 0)) * int64(max(k.HeadDim, 0))
	return n * per
}

// runtimeOverhead is the memory the runtime needs besides weights and cache:
// code, activations of one token, tokenizer tables. A deliberate round
// over-estimate for the small and mid-size models OMEX targets.
const runtimeOverhead = 64 << 20

// ComputeRequirements derives metadata's minimum and recommended
// requirements from the weights' size in bytes (data plus scales, see
// WeightBytes) and the KV cache. Minimum memory holds the weights, a full
// context's cache and runtimeOverhead; recommended adds half again for the
// OS and page cache. Minimum disk holds the package; recommended is twice
// that, since an atomic rewrite builds the new package beside the old one.
// CPU features are left to the caller, who knows its kernels.
func ComputeRequirements(weightBytes int64, kv KVCache) (minimum, recommended Requirements) {
	weightBytes = max(weightBytes, 0)
	mem := weightBytes + kv.Bytes() + runtimeOverhead
	disk := weightBytes + 1<<20 // JSON, tokenizer files, record padding
	minimum = Requirements{MemoryMB: ceilMB(mem), DiskMB: ceilMB(disk)}
	recommended = Requirements{MemoryMB: ceilMB(mem + mem/2), DiskMB: ceilMB(2 * disk)}
	return minimum, recommended
}

// WeightBytes is the stored size of tensors: element data plus scales.
func WeightBytes(infos []tensor.Info) int64 {
	var total int64
	for _, in := range infos {
		n := shapeElements(in.Shape)
		total += in.DType.DataBytes64(n)
		if in.DType.Quantized() {
			total += 4 * (n / tensor.BlockSize)
		}
	}
	return total
}

// ceilMB converts bytes to whole mebibytes, rounding up.
func ceilMB(b int64) int64 { return (b + 1<<20 - 1) >> 20 }

// Package goasm generates the Go assembly kernels of an OMEX executable:
// matrix-vector products for f32, f16, bf16, q8_0 and q4_0 weights whose
// dimensions are compile-time constants, for the amd64 (AVX-512, AVX2,
// SSE2) and arm64 (NEON) kernel sets, with their Go stubs and a pure-Go
// fallback for every kernel.
//
// Bit-exactness. runtime/kernels sums each output row in float32, in
// column order, rounding after every multiply and every add. A SIMD dot
// product that splits a row across lanes would change that order, so these
// kernels instead give each lane its own row: weights are repacked
// (Interleave) into groups of L rows, [ceil(N/L)][K][L], so one vector
// load at column k holds W[g*L+j][k] for the L rows j of group g, and lane j
// does acc += W[row][k] * x[k] for k = 0..K-1 with a separate multiply and
// add (never FMA, which rounds once). Every output is then the reference's
// sum, bit for bit, while the loads stay contiguous vectors. Quantized
// weights dequantize lane-wise in the reference's order: convert the
// integer to float32 (exact), multiply by the lane's block scale (scales
// repacked to [ceil(N/L)][K/32][L]), multiply by x[k], add.
//
// Generate writes a package's kernels (assembly, stubs, fallbacks);
// Interleave repacks a weight for them (passes registers it as each
// assembly target's layout). GenerateModel writes a whole model package:
// the decode schedule, straight-line Go over the memory plan's arena,
// calling these kernels for every matrix product. Only the products are
// assembly: rmsnorm, rope, softmax, attention, SiLU·mul and add call
// runtime/kernels, because their float32 order is a sum along the vector
// (rmsnorm's squares, attention's dot products and weighted sums, softmax's
// denominator) or goes through float64 exp/sin/cos, and none of them
// weighs much next to the matrices.
//
// internal/testkernels holds a fixed set of generated kernels that the
// tests assemble, run (arm64 under qemu) and benchmark; internal/testmodels
// the generated schedules of real models, run against the interpreter.
package goasm

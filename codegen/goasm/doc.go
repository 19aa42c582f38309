// Package goasm generates the Go assembly kernels of an OMEX executable:
// matrix-vector and several-rows products for f32, f16, bf16, q8_0 and
// q4_0 weights whose dimensions are compile-time constants, softmax, SiLU,
// SiLU·mul and attention, for the amd64 (AVX-512, AVX2, SSE2) and arm64
// (NEON) kernel sets, with their Go stubs and a pure-Go fallback for
// every kernel (SSE2 has no exp or attention assembly: it runs the
// fallbacks).
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
// calling these kernels for every matrix product (NAME_rows for a
// prompt's rows). The ops built on exp and the attention have kernels of
// their own that keep the bits by choosing their lanes and by guarding
// exp: ExpFiles (softmax, SiLU, SiLU·mul; float64 exp lanes, with the
// lanes that could round differently from math.Exp left to the scalar
// reference, see expkernels.go) and AttnFiles (positions as lanes for the
// scores over a transposed key cache, head dimensions as lanes for the
// weighted values). rmsnorm, rope and add call runtime/kernels: rmsnorm's
// sum of squares is one sequential chain, rope's sin/cos are float64, and
// neither weighs much next to the matrices.
//
// internal/testkernels holds a fixed set of generated kernels that the
// tests assemble, run (arm64 under qemu) and benchmark; internal/testmodels
// the generated schedules of real models, run against the interpreter.
package goasm

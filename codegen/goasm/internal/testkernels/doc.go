// Package testkernels holds generated matvec kernels of fixed shapes
// (codegen/goasm/internal/kernelset) so that `go test` assembles and runs
// the generator's output: its tests compare every kernel with its pure-Go
// fallback and with runtime/kernels' MatVec, bit for bit, and benchmark
// them.
package testkernels

//go:generate go run ../gentest

// Package kernels holds the reference float32 kernels of OMEX: dtype-aware
// matrix-vector products, rmsnorm, softmax, SwiGLU, rotary embeddings and
// causal attention. The runtime's forward pass (runtime/model) and the IR
// interpreter (ir/interp) both compute with these functions, so the two
// paths perform the same float32 operations in the same order and agree bit
// for bit. It imports only tensor and omexerr, so any layer may use it.
//
// The arithmetic follows llama2.c run.c step by step (same operations, same
// order, a rounding to float32 after each), so greedy decoding reproduces
// its output bit for bit.
//
// Go has no float32 exp/pow/sqrt/cos/sin: they are computed in float64 and
// rounded to float32: the correctly rounded float32 result but for rare
// double-rounding cases. glibc's expf/sinf/cosf are not always correctly
// rounded (measured: about 1% of the rope angles of stories260K for
// sinf/cosf, 4 in 100000 random arguments for expf), so logits leave
// run.c's in the last bits from position 2 on (at most 1.7e-5 over 256
// positions of stories260K; greedy ids identical). With glibc's functions
// swapped in, every logit of those 256 positions is bit-identical to run.c,
// which confirms the arithmetic order.
//
// Products that feed an addition are written float32(a*b): Go may fuse
// a*b+c into one FMA on some targets (arm64, amd64 v3, ...), which rounds
// once instead of twice; the explicit conversion forbids that fusion.
//
// The kernels trust their callers on lengths (a slice too short panics):
// checking untrusted input is NewMatrix's job, and callers size their
// buffers from shapes it has checked.
package kernels

// Package llvm is omexc's LLVM backend: it emits the decode kernels as
// LLVM IR for a target, compiles them with llc into an ELF object, and
// generates the Go package that links that object into an executable
// without cgo.
//
// Kernels. MatVec is the matrix-vector product for f32, f16, bf16, q8_0
// and q4_0 weights, the same kernel as codegen/goasm's (same name, Go
// signature and row-interleaved weight layout), so its package replaces
// goasm's kernel files under goasm's schedule. Each SIMD lane owns one
// weight row and sums w*x in column order with separate multiplies and
// adds (no fast-math, no FMA, llc -fp-contract=off), which is
// runtime/kernels' float32 arithmetic: results are identical bit for bit.
// Elementwise adds RMSNorm, Add and Mul. Dimensions are constants.
//
// IR. The issue named github.com/llir/llvm, which this build cannot fetch
// (its module proxy refuses it), so Module, Function, Block and Type are a
// small emitter of our own: the IR text the kernels need (vector types,
// phi, load/store, getelementptr, float and integer arithmetic, casts,
// insertelement/shufflevector broadcasts, branches, intrinsic calls), with
// opaque pointers. Emit returns a module's text (omexc's --emit=llvm).
//
// Linking without cgo. The object ships as a .syso in the generated
// package; Go-assembly trampolines (ABI0) move the arguments into the
// System V (amd64) or AAPCS64 (arm64) argument registers and call the C
// symbols on a stack area inside their own frame. The Go linker, linking
// a static executable internally, never applies relocations inside a
// .syso, so the kernels are compiled to need none: every constant is read
// from a table whose address the trampoline passes, and Compile refuses
// an object with a relocation, a call or an undefined symbol (see Object).
// docs/LLVM.md has the details, the measured speed and the limits.
package llvm

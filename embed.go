// Package omex carries the source of the runtime side of OMEX inside the
// compiler: `omexc build` writes these files into a fresh Go module and
// builds the produced executable from them, so omexc needs a Go toolchain
// but never the project's source tree. It lives at the module root because
// go:embed can only reach files at or below the embedding package.
package omex

import "embed"

// RuntimeSource holds go.mod, go.sum and the packages a produced executable
// is built from: tensor, omexerr and everything under runtime. Test files
// and testdata come along (go:embed cannot leave them out) and are skipped
// when the build directory is written (codegen/link).
//
//go:embed go.mod go.sum tensor omexerr runtime
var RuntimeSource embed.FS

// Package format reads, writes and verifies OMEX packages: a directory that
// holds a model's metadata, computation graph, binary weight records, weight
// index, tokenizer, default agent and an integrity manifest. The layout is
// specified byte by byte in docs/FORMAT.md.
//
// Writing is atomic: Create builds the package in a hidden directory beside
// the target and Commit renames it into place, so nothing partial is ever
// left at the target path. Reading (Open, ReadTensor) checks every offset and
// length against the file before it allocates, and Verify checks hashes and
// structure. Bad content is always an omexerr ModelError naming the file.
//
// This package imports nothing of OMEX's except omexerr and tensor, so every
// layer (importers, runtime, CLI) can use it.
package format

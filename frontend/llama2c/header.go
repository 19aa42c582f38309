package llama2c

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
)

// The llama2.c file header. A legacy (version 0) file starts straight with
// seven int32 hyperparameters; export.py's versioned files start with the
// magic "ak42" (uint32 0x616b3432), an int32 version, the same seven ints,
// a shared-classifier byte, for version 2 an int32 group size, and zeros up
// to 256 bytes.
const (
	magic           = 0x616b3432
	legacyHeaderLen = 7 * 4
	versionedHdrLen = 256
	paramsOffset    = 8 // of the seven ints in a versioned header
	sharedOffset    = paramsOffset + 7*4
	groupOffset     = sharedOffset + 1
)

// header is the decoded file header.
type header struct {
	version   int // 0 (legacy), 1 or 2
	dim       int
	hidden    int
	layers    int
	heads     int
	kvHeads   int
	vocab     int
	seqLen    int
	shared    bool  // the classifier is the token embedding
	groupSize int   // version 2: elements per int8 scale
	dataOff   int64 // where the weights start
}

// paramNames are the seven header ints in file order, for error messages.
var paramNames = [7]string{"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"}

// parseHeader reads and checks the header. Every number is checked before
// anything is sized from it, so a corrupt header gives a ModelError at the
// offending field's offset.
func parseHeader(r io.ReaderAt, size int64, name string) (header, error) {
	var buf [versionedHdrLen]byte
	n := int64(len(buf))
	if size < n {
		n = size
	}
	if n < 0 {
		n = 0
	}
	if got, err := r.ReadAt(buf[:n], 0); int64(got) < n {
		return header{}, omexerr.Modelf("model.read_failed", "cannot read the checkpoint header").WithFile(name).WithOffset(int64(got)).Wrap(err)
	}
	b := buf[:n]
	le := binary.LittleEndian
	if len(b) >= 4 && le.Uint32(b) == magic {
		return parseVersioned(b, name)
	}
	if len(b) < legacyHeaderLen {
		return header{}, omexerr.Modelf("model.truncated", "file is %d bytes, shorter than the %d-byte llama2.c header", size, legacyHeaderLen).WithFile(name).WithOffset(size)
	}
	var p [7]int64
	for i := range p {
		p[i] = int64(int32(le.Uint32(b[4*i:])))
	}
	h := header{version: 0, dataOff: legacyHeaderLen}
	// A legacy file marks an unshared classifier with a negative vocab size.
	h.shared = p[5] > 0
	if p[5] < 0 {
		p[5] = -p[5]
	}
	if err := h.setParams(p, 0, name); err != nil {
		return header{}, err
	}
	return h, nil
}

// parseVersioned decodes an "ak42" header (versions 1 and 2).
func parseVersioned(b []byte, name string) (header, error) {
	le := binary.LittleEndian
	if len(b) < 8 {
		return header{}, omexerr.Modelf("model.truncated", "file ends inside the llama2.c header").WithFile(name).WithOffset(int64(len(b)))
	}
	version := int32(le.Uint32(b[4:]))
	if version != 1 && version != 2 {
		return header{}, omexerr.Modelf("model.unsupported_version", "llama2.c export version %d is not supported (only 0, 1 and 2 are)", version).WithFile(name).WithOffset(4)
	}
	if len(b) < versionedHdrLen {
		return header{}, omexerr.Modelf("model.truncated", "file ends inside the %d-byte llama2.c version %d header", versionedHdrLen, version).WithFile(name).WithOffset(int64(len(b)))
	}
	var p [7]int64
	for i := range p {
		p[i] = int64(int32(le.Uint32(b[paramsOffset+4*i:])))
	}
	h := header{version: int(version), dataOff: versionedHdrLen}
	// Versioned files carry the shared flag in its own byte; export.py writes
	// 0 or 1 and anything else means the header is damaged.
	switch b[sharedOffset] {
	case 0:
	case 1:
		h.shared = true
	default:
		return header{}, omexerr.Modelf("model.bad_header", "shared-classifier flag is %d, want 0 or 1", b[sharedOffset]).WithFile(name).WithOffset(sharedOffset)
	}
	if err := h.setParams(p, paramsOffset, name); err != nil {
		return header{}, err
	}
	if h.version == 2 {
		gs := int64(int32(le.Uint32(b[groupOffset:])))
		if gs <= 0 || gs > int64(h.dim) {
			return header{}, omexerr.Modelf("model.bad_header", "quantization group size %d is not in 1..dim (%d)", gs, h.dim).WithFile(name).WithOffset(groupOffset)
		}
		h.groupSize = int(gs)
	}
	return h, nil
}

// setParams checks the seven hyperparameters (read at base) and stores them.
func (h *header) setParams(p [7]int64, base int64, name string) error {
	// Bounds match model.Config.Validate's, checked per field so the error
	// can point at the bad one.
	limits := [7]int64{1 << 20, 1 << 22, 4096, 1 << 20, 1 << 20, 1 << 24, 1 << 24}
	for i, v := range p {
		if v <= 0 || v > limits[i] {
			return omexerr.Modelf("model.bad_header", "%s is %d, want 1..%d (is this a llama2.c checkpoint?)", paramNames[i], v, limits[i]).WithFile(name).WithOffset(base + 4*int64(i))
		}
	}
	h.dim, h.hidden, h.layers, h.heads = int(p[0]), int(p[1]), int(p[2]), int(p[3])
	h.kvHeads, h.vocab, h.seqLen = int(p[4]), int(p[5]), int(p[6])
	headsOff := base + 12
	switch {
	case h.dim%h.heads != 0:
		return omexerr.Modelf("model.bad_header", "dim %d is not a multiple of n_heads %d", h.dim, h.heads).WithFile(name).WithOffset(headsOff)
	case h.heads%h.kvHeads != 0:
		return omexerr.Modelf("model.bad_header", "n_heads %d is not a multiple of n_kv_heads %d", h.heads, h.kvHeads).WithFile(name).WithOffset(headsOff + 4)
	}
	cfg := h.config()
	if err := cfg.Validate(); err != nil {
		return omexerr.Modelf("model.bad_header", "the header describes a model this runtime cannot run").WithFile(name).WithOffset(base).Wrap(err)
	}
	return nil
}

// config is the model.Config the header describes.
func (h *header) config() model.Config {
	return model.Config{
		Dim:        h.dim,
		Hidden:     h.hidden,
		Layers:     h.layers,
		Heads:      h.heads,
		KVHeads:    h.kvHeads,
		HeadDim:    h.dim / h.heads,
		Vocab:      h.vocab,
		SeqLen:     h.seqLen,
		RopeTheta:  10000,
		RopeLayout: model.RopeInterleaved,
		NormEps:    1e-5,
		Tied:       h.shared,
	}
}

// describe says which llama2.c format the file is in, for Meta.
func (h *header) describe() string {
	switch h.version {
	case 0:
		return "llama2.c checkpoint, legacy fp32 format"
	case 1:
		return "llama2.c checkpoint, export version 1 (fp32)"
	}
	return fmt.Sprintf("llama2.c checkpoint, export version 2 (int8, group size %d)", h.groupSize)
}

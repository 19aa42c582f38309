package llama2c

import (
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// entry is where one tensor lies in the file and how it is stored.
type entry struct {
	name  string
	shape []int // [out, in] for matrices, [dim] for norms
	off   int64 // first byte: the fp32 values, or the int8 values
	// int8 tensors (version 2): the int8 values are followed by one fp32
	// scale per groupSize elements of the flattened tensor.
	int8      bool
	groupSize int
	// q8 says the int8 groups map onto tensor.Q8_0's 32-element row blocks
	// (group size a multiple of 32 and rows a multiple of 32 long).
	q8 bool
}

// elements is the product of the shape.
func (e *entry) elements() int64 {
	n := int64(1)
	for _, s := range e.shape {
		n *= int64(s)
	}
	return n
}

// bytes is the tensor's size in the file.
func (e *entry) bytes() int64 {
	n := e.elements()
	if e.int8 {
		return n + 4*(n/int64(e.groupSize))
	}
	return 4 * n
}

// dtype is the tensor.DType ReadTensor returns for it.
func (e *entry) dtype() tensor.DType {
	if e.q8 {
		return tensor.Q8_0
	}
	return tensor.F32
}

// layout walks the file in write order, placing tensors one after the other
// and stopping at the first one that does not fit in the file, so an absurd
// header can never make it record (or later allocate) more than the file holds.
type layout struct {
	name    string // file name for errors
	size    int64
	off     int64
	entries []entry
	err     error
}

// add places the next tensor. int8 tensors use group size gs.
func (l *layout) add(name string, shape []int, int8 bool, gs int) {
	if l.err != nil {
		return
	}
	e := entry{name: name, shape: shape, off: l.off, int8: int8, groupSize: gs}
	n := e.elements()
	if int8 {
		if n%int64(gs) != 0 {
			l.err = omexerr.Modelf("model.bad_group_size", "tensor of %d elements does not split into groups of %d", n, gs).WithFile(l.name).WithTensor(name).WithOffset(l.off)
			return
		}
		e.q8 = gs%tensor.BlockSize == 0 && shape[len(shape)-1]%tensor.BlockSize == 0
	}
	if !l.fits(name, e.bytes()) {
		return
	}
	l.entries = append(l.entries, e)
	l.off += e.bytes()
}

// skip passes over n bytes the format stores but OMEX does not use.
func (l *layout) skip(what string, n int64) {
	if l.err == nil && l.fits(what, n) {
		l.off += n
	}
}

// fits reports whether n more bytes lie inside the file, recording a
// truncation error at the offset where the data runs out if not.
func (l *layout) fits(what string, n int64) bool {
	if n <= l.size-l.off {
		return true
	}
	l.err = omexerr.Modelf("model.truncated", "file is truncated: %s needs %d bytes from offset %d but the file ends at %d", what, n, l.off, l.size).WithFile(l.name).WithTensor(what).WithOffset(l.size)
	return false
}

// finish checks that the tensors end exactly where the file does.
func (l *layout) finish() error {
	if l.err != nil {
		return l.err
	}
	if l.off != l.size {
		return omexerr.Modelf("model.trailing_bytes", "file has %d bytes after the last tensor (it is %d bytes, the header implies %d): wrong header or not a llama2.c checkpoint", l.size-l.off, l.size, l.off).WithFile(l.name).WithOffset(l.off)
	}
	return nil
}

// shapes of the tensors of one kind, by the names of model's documentation.
type shapes struct {
	h *header
}

func (s shapes) of(part string) []int {
	h := s.h
	hd := h.dim / h.heads
	switch part {
	case "attn_norm.weight", "ffn_norm.weight", model.OutputNorm:
		return []int{h.dim}
	case model.TokenEmbd, model.Output:
		return []int{h.vocab, h.dim}
	case "attn_q.weight":
		return []int{h.heads * hd, h.dim}
	case "attn_k.weight", "attn_v.weight":
		return []int{h.kvHeads * hd, h.dim}
	case "attn_output.weight":
		return []int{h.dim, h.heads * hd}
	case "ffn_gate.weight", "ffn_up.weight":
		return []int{h.hidden, h.dim}
	case "ffn_down.weight":
		return []int{h.dim, h.hidden}
	}
	return nil // not reached: callers pass only the parts listed above
}

// The per-layer tensors in the order llama2.c writes their groups: each
// group holds that tensor for every layer. (w1 = ffn_gate, w2 = ffn_down,
// w3 = ffn_up.)
var (
	attnParts = []string{"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"}
	ffnParts  = []string{"ffn_gate.weight", "ffn_down.weight", "ffn_up.weight"}
)

// layoutOf places every tensor of the file h heads, in file order.
func layoutOf(h *header, size int64, name string) ([]entry, error) {
	l := &layout{name: name, size: size, off: h.dataOff}
	s := shapes{h}
	perLayer := func(part string, int8 bool) {
		// Stop at the first error: names and shapes cost memory too.
		for i := 0; i < h.layers && l.err == nil; i++ {
			l.add(model.LayerTensor(i, part), s.of(part), int8, h.groupSize)
		}
	}
	switch h.version {
	case 0:
		// run.c's memory_map_weights.
		l.add(model.TokenEmbd, s.of(model.TokenEmbd), false, 0)
		perLayer("attn_norm.weight", false)
		for _, p := range attnParts {
			perLayer(p, false)
		}
		perLayer("ffn_norm.weight", false)
		for _, p := range ffnParts {
			perLayer(p, false)
		}
		l.add(model.OutputNorm, s.of(model.OutputNorm), false, 0)
		// The old RoPE tables freq_cis_real and freq_cis_imag, each
		// seq_len*head_size/2 floats.
		freq := 4 * int64(h.seqLen) * int64(h.dim/h.heads) / 2
		l.skip("freq_cis_real", freq)
		l.skip("freq_cis_imag", freq)
		if !h.shared {
			l.add(model.Output, s.of(model.Output), false, 0)
		}
	default:
		// export.py's version1_export and version2_export: fp32 norms first,
		// then the matrices, int8 in version 2.
		q := h.version == 2
		perLayer("attn_norm.weight", false)
		perLayer("ffn_norm.weight", false)
		l.add(model.OutputNorm, s.of(model.OutputNorm), false, 0)
		l.add(model.TokenEmbd, s.of(model.TokenEmbd), q, h.groupSize)
		for _, p := range attnParts {
			perLayer(p, q)
		}
		for _, p := range ffnParts {
			perLayer(p, q)
		}
		if !h.shared {
			l.add(model.Output, s.of(model.Output), q, h.groupSize)
		}
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.entries, nil
}

// canonicalOrder sorts the entries as a reader expects them: the embedding,
// each layer's tensors together, then the output norm and classifier.
func canonicalOrder(h *header, fileOrder []entry) []entry {
	byName := make(map[string]entry, len(fileOrder))
	for _, e := range fileOrder {
		byName[e.name] = e
	}
	names := []string{model.TokenEmbd}
	for i := 0; i < h.layers; i++ {
		names = append(names, model.LayerTensor(i, "attn_norm.weight"))
		for _, p := range attnParts {
			names = append(names, model.LayerTensor(i, p))
		}
		names = append(names, model.LayerTensor(i, "ffn_norm.weight"))
		for _, p := range ffnParts {
			names = append(names, model.LayerTensor(i, p))
		}
	}
	names = append(names, model.OutputNorm)
	if !h.shared {
		names = append(names, model.Output)
	}
	out := make([]entry, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

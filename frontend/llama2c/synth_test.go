package llama2c

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
)

// synthModel is a small model with random weights, written by the test in
// llama2.c's file formats independently of the parser's layout code: the
// write order below follows run.c and export.py line by line.
type synthModel struct {
	dim, hidden, layers, heads, kvHeads, vocab, seqLen int
	shared                                             bool
	w                                                  map[string][]float32 // canonical name -> values
}

// newSynth makes a model with deterministic random weights.
func newSynth(dim, hidden, layers, heads, kvHeads, vocab, seqLen int, shared bool, seed int64) *synthModel {
	m := &synthModel{dim: dim, hidden: hidden, layers: layers, heads: heads, kvHeads: kvHeads, vocab: vocab, seqLen: seqLen, shared: shared, w: map[string][]float32{}}
	rng := rand.New(rand.NewSource(seed))
	kv := kvHeads * (dim / heads)
	put := func(name string, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.1)
		}
		m.w[name] = v
	}
	put("token_embd.weight", vocab*dim)
	for l := 0; l < layers; l++ {
		put(fmt.Sprintf("blk.%d.attn_norm.weight", l), dim)
		put(fmt.Sprintf("blk.%d.attn_q.weight", l), dim*dim)
		put(fmt.Sprintf("blk.%d.attn_k.weight", l), kv*dim)
		put(fmt.Sprintf("blk.%d.attn_v.weight", l), kv*dim)
		put(fmt.Sprintf("blk.%d.attn_output.weight", l), dim*dim)
		put(fmt.Sprintf("blk.%d.ffn_norm.weight", l), dim)
		put(fmt.Sprintf("blk.%d.ffn_gate.weight", l), hidden*dim)
		put(fmt.Sprintf("blk.%d.ffn_down.weight", l), dim*hidden)
		put(fmt.Sprintf("blk.%d.ffn_up.weight", l), hidden*dim)
	}
	put("output_norm.weight", dim)
	if !shared {
		put("output.weight", vocab*dim)
	}
	return m
}

// layerNames lists name-of-part for every layer.
func (m *synthModel) layerNames(part string) []string {
	var out []string
	for l := 0; l < m.layers; l++ {
		out = append(out, fmt.Sprintf("blk.%d.%s", l, part))
	}
	return out
}

func (m *synthModel) params() []int32 {
	return []int32{int32(m.dim), int32(m.hidden), int32(m.layers), int32(m.heads), int32(m.kvHeads), int32(m.vocab), int32(m.seqLen)}
}

func writeF32(b *bytes.Buffer, v []float32) {
	for _, f := range v {
		binary.Write(b, binary.LittleEndian, f)
	}
}

// legacy writes export.py's legacy_export (version 0) file.
func (m *synthModel) legacy() []byte {
	var b bytes.Buffer
	p := m.params()
	if !m.shared {
		p[5] = -p[5]
	}
	binary.Write(&b, binary.LittleEndian, p)
	writeF32(&b, m.w["token_embd.weight"])
	for _, part := range []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"} {
		for _, n := range m.layerNames(part + ".weight") {
			writeF32(&b, m.w[n])
		}
	}
	writeF32(&b, m.w["output_norm.weight"])
	// freqs_cos and freqs_sin: seq_len x head_size/2 each; any values.
	freq := make([]float32, m.seqLen*(m.dim/m.heads)/2)
	for i := range freq {
		freq[i] = float32(math.Cos(float64(i)))
	}
	writeF32(&b, freq)
	writeF32(&b, freq)
	if !m.shared {
		writeF32(&b, m.w["output.weight"])
	}
	return b.Bytes()
}

// header256 writes the "ak42" header of export.py's versioned files.
func (m *synthModel) header256(version int32, groupSize int32) *bytes.Buffer {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(0x616b3432))
	binary.Write(&b, binary.LittleEndian, version)
	binary.Write(&b, binary.LittleEndian, m.params())
	shared := byte(0)
	if m.shared {
		shared = 1
	}
	b.WriteByte(shared)
	if version == 2 {
		binary.Write(&b, binary.LittleEndian, groupSize)
	}
	b.Write(make([]byte, 256-b.Len()))
	return &b
}

// matrices lists the weights export.py quantizes, in its order.
func (m *synthModel) matrices() []string {
	names := []string{"token_embd.weight"}
	for _, part := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up"} {
		names = append(names, m.layerNames(part+".weight")...)
	}
	if !m.shared {
		names = append(names, "output.weight")
	}
	return names
}

// norms lists the fp32 norms in export.py's versioned order.
func (m *synthModel) norms() []string {
	names := append(m.layerNames("attn_norm.weight"), m.layerNames("ffn_norm.weight")...)
	return append(names, "output_norm.weight")
}

// version1 writes export.py's version1_export file.
func (m *synthModel) version1() []byte {
	b := m.header256(1, 0)
	for _, n := range append(m.norms(), m.matrices()...) {
		writeF32(b, m.w[n])
	}
	return b.Bytes()
}

// version2 writes export.py's version2_export file and returns, per
// quantized tensor, the values a reader must dequantize to (q*scale).
func (m *synthModel) version2(groupSize int) ([]byte, map[string][]float32) {
	b := m.header256(2, int32(groupSize))
	for _, n := range m.norms() {
		writeF32(b, m.w[n])
	}
	deq := map[string][]float32{}
	for _, n := range m.matrices() {
		q, s := quantizeQ80(m.w[n], groupSize)
		for _, v := range q {
			b.WriteByte(byte(v))
		}
		writeF32(b, s)
		d := make([]float32, len(q))
		for i, v := range q {
			d[i] = float32(v) * s[i/groupSize]
		}
		deq[n] = d
	}
	return b.Bytes(), deq
}

// quantizeQ80 is export.py's quantize_q80: symmetric int8 per group.
func quantizeQ80(w []float32, groupSize int) ([]int8, []float32) {
	q := make([]int8, len(w))
	s := make([]float32, len(w)/groupSize)
	for g := range s {
		var mx float32
		for _, v := range w[g*groupSize : (g+1)*groupSize] {
			mx = max(mx, float32(math.Abs(float64(v))))
		}
		s[g] = mx / 127
		for i := g * groupSize; i < (g+1)*groupSize; i++ {
			q[i] = int8(math.RoundToEven(float64(w[i] / s[g])))
		}
	}
	return q, s
}

package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/omexerr"
)

// allGGUF lists every GGUF file in the shared test data.
func allGGUF(t testing.TB) []string {
	td := testfiles.Shared(t)
	var out []string
	for _, pat := range []string{"models/*/*.gguf", "tokenizers/vocab-tests/*.gguf", "tokenizers/vocab-extra/*.gguf"} {
		m, _ := filepath.Glob(filepath.Join(td, pat))
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Skip("no GGUF files in the shared test data")
	}
	return out
}

// wantModelError fails unless err is a ModelError naming file name.
func wantModelError(t testing.TB, err error, name string) *omexerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a ModelError")
	}
	e, ok := omexerr.As(err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *omexerr.Error", err, err)
	}
	if e.Category != omexerr.Model {
		t.Fatalf("category %v, want ModelError: %v", e.Category, e)
	}
	if e.File != name {
		t.Fatalf("error names file %q, want %q: %v", e.File, name, e)
	}
	return e
}

// builder writes synthetic GGUF files for the corruption tests.
type builder struct {
	bytes.Buffer
}

func (b *builder) u32(v uint32) *builder { binary.Write(&b.Buffer, binary.LittleEndian, v); return b }
func (b *builder) u64(v uint64) *builder { binary.Write(&b.Buffer, binary.LittleEndian, v); return b }
func (b *builder) str(s string) *builder { b.u64(uint64(len(s))); b.WriteString(s); return b }

// kvString writes a string metadata pair.
func (b *builder) kvString(k, v string) *builder { return b.str(k).u32(uint32(TypeString)).str(v) }

// kvU32 writes a uint32 metadata pair.
func (b *builder) kvU32(k string, v uint32) *builder { return b.str(k).u32(uint32(TypeUint32)).u32(v) }

// synthTensor is a tensor for a synthetic file: GGUF dims and raw data.
type synthTensor struct {
	name string
	dims []uint64
	typ  GGMLType
	data []byte
}

// synthFile builds a GGUF v3 file with a three-token llama tokenizer, the
// given extra metadata and tensors laid out back to back at 32-byte alignment.
func synthFile(extraKVs int, kvs func(b *builder), tensors []synthTensor) []byte {
	return synthModelFile("llama", 3, extraKVs, kvs, tensors)
}

// synthModelFile is synthFile with a chosen architecture and vocabulary size.
func synthModelFile(arch string, nTokens, extraKVs int, kvs func(b *builder), tensors []synthTensor) []byte {
	var b builder
	b.WriteString("GGUF")
	b.u32(3).u64(uint64(len(tensors))).u64(uint64(3 + extraKVs))
	b.kvString("general.architecture", arch)
	b.kvString("tokenizer.ggml.model", "llama")
	b.str("tokenizer.ggml.tokens").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(uint64(nTokens))
	for i := range nTokens {
		b.str([]string{"<unk>", "<s>", "</s>"}[min(i, 2)] + strings.Repeat("x", max(0, i-2)))
	}
	if kvs != nil {
		kvs(&b)
	}
	var off uint64
	for _, t := range tensors {
		b.str(t.name).u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			b.u64(d)
		}
		b.u32(uint32(t.typ)).u64(off)
		off += (uint64(len(t.data)) + 31) / 32 * 32
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	for _, t := range tensors {
		b.Write(t.data)
		for b.Len()%32 != 0 {
			b.WriteByte(0)
		}
	}
	return b.Bytes()
}

// minimalFile is a tiny valid GGUF: three tokens and one 4x2 F32 tensor.
func minimalFile() []byte {
	data := make([]byte, 32)
	for i := range 8 {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(i)*0x3f800000/8)
	}
	return synthFile(0, nil, []synthTensor{{"w.weight", []uint64{4, 2}, GGMLF32, data}})
}

// tinyModel describes a synthetic Llama-family model for tinyModelFile.
type tinyModel struct {
	arch          string
	dim, hidden   int
	layers, heads int
	kvHeads       int
	vocab         int
	bias          bool // qkv biases (qwen2)
	untied        bool // write output.weight
	typ           GGMLType
	skip          string // a tensor to leave out
}

// tinyModelFile builds a complete small model GGUF whose config is m:
// hyperparameters, a tokenizer of m.vocab tokens, and every tensor (matrices
// of type m.typ, norms and biases F32) filled with a simple pattern.
func tinyModelFile(m tinyModel) []byte {
	headDim := m.dim / m.heads
	type shape struct {
		name string
		dims []int // [out, in] or [n]
	}
	var shapes []shape
	add := func(name string, dims ...int) {
		if name != m.skip {
			shapes = append(shapes, shape{name, dims})
		}
	}
	add("token_embd.weight", m.vocab, m.dim)
	for l := range m.layers {
		p := func(s string) string { return fmt.Sprintf("blk.%d.%s", l, s) }
		add(p("attn_norm.weight"), m.dim)
		add(p("attn_q.weight"), m.heads*headDim, m.dim)
		add(p("attn_k.weight"), m.kvHeads*headDim, m.dim)
		add(p("attn_v.weight"), m.kvHeads*headDim, m.dim)
		if m.bias {
			add(p("attn_q.bias"), m.heads*headDim)
			add(p("attn_k.bias"), m.kvHeads*headDim)
			add(p("attn_v.bias"), m.kvHeads*headDim)
		}
		add(p("attn_output.weight"), m.dim, m.heads*headDim)
		add(p("ffn_norm.weight"), m.dim)
		add(p("ffn_gate.weight"), m.hidden, m.dim)
		add(p("ffn_up.weight"), m.hidden, m.dim)
		add(p("ffn_down.weight"), m.dim, m.hidden)
	}
	add("output_norm.weight", m.dim)
	if m.untied {
		add("output.weight", m.vocab, m.dim)
	}
	var tensors []synthTensor
	for _, s := range shapes {
		typ := GGMLF32
		if len(s.dims) == 2 {
			typ = m.typ
		}
		n := 1
		dims := make([]uint64, len(s.dims))
		for i, d := range s.dims {
			n *= d
			dims[len(s.dims)-1-i] = uint64(d)
		}
		info := ggmlTypes[typ]
		data := make([]byte, uint64(n)/info.blockSize*info.typeSize)
		for i := range data {
			data[i] = byte(i * 7)
		}
		tensors = append(tensors, synthTensor{s.name, dims, typ, data})
	}
	kvs := func(b *builder) {
		a := m.arch + "."
		b.kvU32(a+"embedding_length", uint32(m.dim)).kvU32(a+"feed_forward_length", uint32(m.hidden))
		b.kvU32(a+"block_count", uint32(m.layers)).kvU32(a+"attention.head_count", uint32(m.heads))
		b.kvU32(a+"attention.head_count_kv", uint32(m.kvHeads)).kvU32(a+"context_length", 64)
		b.str(a + "attention.layer_norm_rms_epsilon").u32(uint32(TypeFloat32)).u32(0x3727c5ac) // 1e-5
		b.str("tokenizer.ggml.scores").u32(uint32(TypeArray)).u32(uint32(TypeFloat32)).u64(uint64(m.vocab))
		for i := range m.vocab {
			b.u32(uint32(i))
		}
	}
	return synthModelFile(m.arch, m.vocab, 8, kvs, tensors)
}

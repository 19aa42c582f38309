package exe

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/tensor"
)

// tinyBundle is a small valid executable: a few tensors of each kind and a
// tiny tokenizer, so fuzzing mutates something short.
func tinyBundle(t testing.TB) []byte {
	var buf bytes.Buffer
	buf.WriteString("#!program")
	bw, err := NewBundleWriter(&buf, int64(buf.Len()), 64)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := tensor.Convert(&tensor.Tensor{Name: "q", DType: tensor.F32, Shape: []int{1, 32}, Data: make([]byte, 128)}, tensor.Q4_0)
	for _, tt := range []*tensor.Tensor{
		{Name: "a", DType: tensor.F32, Shape: []int{2, 2}, Data: make([]byte, 16)},
		{Name: "h", DType: tensor.F16, Shape: []int{3}, Data: make([]byte, 6)},
		q,
	} {
		if err := bw.Add(tt, "rows4"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := model.Config{Dim: 2, Hidden: 4, Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 2, Vocab: 3, SeqLen: 8, RopeTheta: 10000, RopeLayout: model.RopeInterleaved, NormEps: 1e-5}
	spec := tokenizer.Spec{Kind: tokenizer.SPM, Tokens: []string{"<s>", "a", "b"}, Scores: []float32{0, -1, -2}, BOS: 0, EOS: -1, UNK: -1, PAD: -1}
	if err := bw.Finish("tiny", cfg, spec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// resealed recomputes the checksums of b's trailer over the regions the
// trailer names, so mutations inside the index or the weights get past the
// checksums and reach the parser.
func resealed(b []byte) []byte {
	if len(b) < TrailerSize {
		return b
	}
	b = bytes.Clone(b)
	tr := b[len(b)-TrailerSize:]
	le := binary.LittleEndian
	wOff, wLen, iOff, iLen := le.Uint64(tr[8:]), le.Uint64(tr[16:]), le.Uint64(tr[24:]), le.Uint64(tr[32:])
	n := uint64(len(b))
	if wOff <= n && wLen <= n-wOff {
		le.PutUint32(tr[40:], crc32.Checksum(b[wOff:wOff+wLen], crcTable))
	}
	if iOff <= n && iLen <= n-iOff {
		le.PutUint32(tr[44:], crc32.Checksum(b[iOff:iOff+iLen], crcTable))
	}
	le.PutUint32(tr[48:], crc32.Checksum(tr[:48], crcTable))
	return b
}

// FuzzOpen: any file is either refused with a ModelError or opens into a
// bundle whose every tensor can be fetched with data of the right size.
func FuzzOpen(f *testing.F) {
	good := tinyBundle(f)
	f.Add(good, false)
	f.Add(good, true)
	f.Add(good[:len(good)-1], true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, b []byte, reseal bool) {
		if reseal {
			b = resealed(b)
		}
		bd, err := openBytes(b)
		if err != nil {
			return
		}
		for _, e := range bd.Index.Tensors {
			tt, err := bd.Tensor(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(tt.Data)) != tt.DType.DataBytes64(int64(tt.Elements())) || len(tt.Scales) != int(e.ScalesCount) {
				t.Fatalf("tensor %s: %d data bytes, %d scales for %v %v", e.Name, len(tt.Data), len(tt.Scales), tt.DType, tt.Shape)
			}
		}
	})
}

// FuzzParseIndex: any index either fails with an error or parses into
// entries that encode back to an index that parses to the same thing:
// encoding that again gives the same bytes. (Bytes, not reflect.DeepEqual:
// a tokenizer score may be NaN, which DeepEqual never finds equal.)
func FuzzParseIndex(f *testing.F) {
	good := tinyBundle(f)
	tr, err := ParseTrailer(good[len(good)-TrailerSize:], int64(len(good)), "f")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[tr.IndexOff:tr.IndexOff+tr.IndexLen], tr.WeightsLen)
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, weightsLen uint64) {
		ix, err := ParseIndex(b, weightsLen, "f", 0)
		if err != nil {
			return
		}
		again, err := ix.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		ix2, err := ParseIndex(again, weightsLen, "f", 0)
		if err != nil {
			t.Fatalf("re-encoded index does not parse: %v", err)
		}
		again2, err := ix2.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, again2) {
			t.Fatal("the index changed in a round trip")
		}
	})
}

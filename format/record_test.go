package format

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// TestRecordBytes pins the record layout of docs/FORMAT.md byte by byte:
// a Q8_0 [2,32] record of layer 3 starting at offset 128.
func TestRecordBytes(t *testing.T) {
	h := RecordHeader{Layer: 3, DType: tensor.Q8_0, Shape: []int{2, 32}}
	got := appendRecordPrefix(nil, &h, []float32{0.5, -2}, 128)
	var want []byte
	want = append(want, 'O', 'M', 'E', 'X')
	for _, v := range []uint32{1, 3, 3, 2, 64, 2, 32, math.Float32bits(0.5), math.Float32bits(-2)} {
		want = binary.LittleEndian.AppendUint32(want, v)
	}
	want = append(want, make([]byte, 64-40)...) // 40 bytes of header, dims, scales; data at 128+64
	if !bytes.Equal(got, want) {
		t.Fatalf("record prefix\n got %x\nwant %x", got, want)
	}
	if h.DataOffset(128) != 192 || h.ScalesOffset() != 32 || h.DataBytes() != 64 {
		t.Fatalf("offsets: data %d scales %d bytes %d", h.DataOffset(128), h.ScalesOffset(), h.DataBytes())
	}
	back, err := ParseRecordHeader(got)
	must(t, err)
	if back.Layer != 3 || back.DType != tensor.Q8_0 || !slices.Equal(back.Shape, h.Shape) {
		t.Fatalf("parsed %+v", back)
	}

	// The special layers have fixed on-disk ids.
	for layer, disk := range map[int]uint32{EmbeddingLayer: 0xFFFFFFFF, HeadLayer: 0xFFFFFFFE, 7: 7} {
		h := RecordHeader{Layer: layer, DType: tensor.F32, Shape: []int{1}}
		b := appendRecordPrefix(nil, &h, nil, 0)
		if v := binary.LittleEndian.Uint32(b[8:]); v != disk {
			t.Errorf("layer %d stored as %#x, want %#x", layer, v, disk)
		}
		back, err := ParseRecordHeader(b)
		must(t, err)
		if back.Layer != layer {
			t.Errorf("layer %d read back as %d", layer, back.Layer)
		}
	}
}

func TestParseRecordHeaderRejects(t *testing.T) {
	good := appendRecordPrefix(nil, &RecordHeader{Layer: 0, DType: tensor.Q4_0, Shape: []int{4, 64}}, make([]float32, 8), 0)
	set := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := map[string]struct {
		b   []byte
		off int64
	}{
		"empty":          {nil, 0},
		"short header":   {good[:23], 0},
		"short dims":     {good[:27], HeaderSize},
		"magic":          {set(0, 0), 0},
		"version":        {set(4, 0), 4},
		"layer":          {set(8, MaxLayer+1), 8},
		"dtype":          {set(12, 5), 12},
		"no dims":        {set(16, 0), 16},
		"too many dims":  {set(16, MaxDims+1), 16},
		"element count":  {set(20, 255), 20},
		"zero dim":       {set(24, 0), HeaderSize},
		"row not blocks": {set(28, 48), HeaderSize},
	}
	for name, c := range cases {
		_, err := ParseRecordHeader(c.b)
		e := wantCategory(t, err, omexerr.Model)
		if e.Offset != c.off {
			t.Errorf("%s: offset %d, want %d (%v)", name, e.Offset, c.off, e)
		}
	}
}

func TestLayerFileNames(t *testing.T) {
	for _, l := range []int{EmbeddingLayer, HeadLayer, 0, 1, 42, MaxLayer} {
		back, ok := layerOfFileName(WeightFileName(l))
		if !ok || back != l {
			t.Errorf("layer %d -> %q -> %d %v", l, WeightFileName(l), back, ok)
		}
	}
	for _, bad := range []string{"layer_01.bin", "layer_-1.bin", "layer_.bin", "layer_1.txt", "../layer_1.bin", "layer_65536.bin", "index.json"} {
		if _, ok := layerOfFileName(bad); ok {
			t.Errorf("%q accepted as a weight file name", bad)
		}
	}
}

func TestComputeRequirements(t *testing.T) {
	kv := KVCache{Layers: 2, KVHeads: 4, HeadDim: 16, ContextLength: 1024}
	if kv.Bytes() != 2*2*1024*4*16*4 {
		t.Fatalf("kv bytes %d", kv.Bytes())
	}
	minimum, rec := ComputeRequirements(100<<20, kv)
	// 100 MiB weights + 1 MiB cache + 64 MiB overhead.
	if minimum.MemoryMB != 165 || rec.MemoryMB != 248 || minimum.DiskMB != 101 || rec.DiskMB != 202 {
		t.Fatalf("min %+v rec %+v", minimum, rec)
	}
	infos := []tensor.Info{{DType: tensor.Q8_0, Shape: []int{64, 64}}, {DType: tensor.F16, Shape: []int{3}}}
	if got := WeightBytes(infos); got != 4096+128*4+6 {
		t.Fatalf("WeightBytes %d", got)
	}
}

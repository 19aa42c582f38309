package model

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// encode stores vals as dtype d and returns the tensor with the values it
// actually holds (decoded by the reference definitions).
func encode(d tensor.DType, name string, vals []float32, shape []int) (*tensor.Tensor, []float32) {
	n := len(vals)
	t := &tensor.Tensor{Name: name, DType: d, Shape: shape, Data: make([]byte, d.DataBytes(n))}
	ref := make([]float32, n)
	switch d {
	case tensor.F16:
		for i, v := range vals {
			// Truncating encoder, normal range only (tiny values become
			// zero): exactness is judged against what is stored.
			var h uint16
			bits := math.Float32bits(v)
			if e := int(bits>>23&0xff) - 127; e >= -14 && e <= 15 {
				h = uint16(bits>>16&0x8000) | uint16(e+15)<<10 | uint16(bits>>13&0x3ff)
			}
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
			ref[i] = refF16(h)
		}
	case tensor.BF16:
		for i, v := range vals {
			h := uint16(math.Float32bits(v) >> 16)
			binary.LittleEndian.PutUint16(t.Data[2*i:], h)
			ref[i] = math.Float32frombits(uint32(h) << 16)
		}
	case tensor.Q8_0, tensor.Q4_0:
		t.Scales = make([]float32, n/32)
		for b := range n / 32 {
			var amax float64
			for _, v := range vals[b*32 : b*32+32] {
				amax = max(amax, math.Abs(float64(v)))
			}
			levels := 127.0
			if d == tensor.Q4_0 {
				levels = 7
			}
			s := float32(amax / levels)
			t.Scales[b] = s
			for j := range 32 {
				q := int(math.Round(float64(vals[b*32+j]) / float64(s)))
				if d == tensor.Q8_0 {
					t.Data[b*32+j] = byte(int8(q))
					ref[b*32+j] = float32(q) * s
					continue
				}
				q = min(max(q+8, 0), 15)
				if j < 16 {
					t.Data[b*16+j] |= byte(q)
				} else {
					t.Data[b*16+j-16] |= byte(q << 4)
				}
				ref[b*32+j] = float32(q-8) * s
			}
		}
	}
	return t, ref
}

// TestStoredFormsMatchF32 runs a model whose matrices are F16, BF16, Q8_0
// or Q4_0 (norms BF16, biases F16, to cover "any float type" there) and the
// same model with those stored values widened to F32: the logits must be
// bit-identical, because dequantization is exact and happens inside the
// same float32 accumulation.
func TestStoredFormsMatchF32(t *testing.T) {
	for _, d := range []tensor.DType{tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0} {
		cfg := tinyConfig()
		cfg.Tied = d == tensor.Q8_0 // cover the tied classifier on a quantized embedding
		vals, shapes := randomWeights(cfg, 5)
		stored := map[string]*tensor.Tensor{}
		widened := map[string][]float32{}
		for name, v := range vals {
			dt := d
			switch {
			case strings.HasSuffix(name, "norm.weight"):
				dt = tensor.BF16
			case strings.HasSuffix(name, ".bias"):
				dt = tensor.F16
			}
			stored[name], widened[name] = encode(dt, name, v, shapes[name])
		}
		qm, err := New(cfg, func(name string) (*tensor.Tensor, error) { return stored[name], nil })
		if err != nil {
			t.Fatalf("%v: %v", d, err)
		}
		fm, err := New(cfg, getter(widened, shapes, asF32))
		if err != nil {
			t.Fatal(err)
		}
		tokens := []int{1, 40, 3, 3, 17, 62, 8}
		a, err := forwardAll(qm, tokens)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := forwardAll(fm, tokens)
		for pos := range a {
			for i := range a[pos] {
				if math.Float32bits(a[pos][i]) != math.Float32bits(b[pos][i]) {
					t.Fatalf("%v pos %d logit %d: stored %v, widened f32 %v", d, pos, i, a[pos][i], b[pos][i])
				}
			}
		}
	}
}

func TestRewindAndReset(t *testing.T) {
	cfg := tinyConfig()
	vals, shapes := randomWeights(cfg, 6)
	m, err := New(cfg, getter(vals, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := forwardAll(m, []int{1, 2, 3, 4})
	// Rewind to position 2 with a different token, then back to the
	// original path: position 3 must reproduce the first run.
	if _, err := m.Forward(9, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(4, 4); err == nil {
		t.Error("position 4 accepted after a rewind to 2")
	}
	m.Reset()
	if _, err := m.Forward(2, 1); err == nil {
		t.Error("position 1 accepted right after Reset")
	}
	again, err := forwardAll(m, []int{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(first[3], again[3]) != 0 {
		t.Error("the same tokens after Reset gave different logits")
	}
	if m.Config() != cfg {
		t.Errorf("Config() = %+v", m.Config())
	}
}

func TestForwardErrors(t *testing.T) {
	cfg := tinyConfig()
	vals, shapes := randomWeights(cfg, 7)
	m, err := New(cfg, getter(vals, shapes, asF32))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tok, pos int
		cat      omexerr.Category
	}{
		{-1, 0, omexerr.Input},
		{cfg.Vocab, 0, omexerr.Input},
		{1, -1, omexerr.Execution},
		{1, cfg.SeqLen, omexerr.Execution},
		{1, 1, omexerr.Execution}, // nothing cached yet
	} {
		if _, err := m.Forward(tc.tok, tc.pos); omexerr.CategoryOf(err) != tc.cat {
			t.Errorf("Forward(%d, %d): got %v, want a %v", tc.tok, tc.pos, err, tc.cat)
		}
	}
	// Fill the whole context, then one more position must fail cleanly.
	for pos := range cfg.SeqLen {
		if _, err := m.Forward(pos%cfg.Vocab, pos); err != nil {
			t.Fatalf("pos %d: %v", pos, err)
		}
	}
	if _, err := m.Forward(1, cfg.SeqLen); omexerr.CategoryOf(err) != omexerr.Execution {
		t.Errorf("past the context: got %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	cfg := tinyConfig()
	vals, shapes := randomWeights(cfg, 8)
	base := getter(vals, shapes, asF32)
	q := LayerTensor(1, "attn_q.weight")
	for _, tc := range []struct {
		what   string
		cfg    func(*Config)
		mod    func(name string, t *tensor.Tensor) (*tensor.Tensor, error)
		tensor string // the tensor the error must name ("" for none)
		code   string
	}{
		{"bad config", func(c *Config) { c.KVHeads = 3 }, nil, "", "model.bad_config"},
		{"missing tensor", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == q {
				return nil, errors.New("not in file")
			}
			return t, nil
		}, q, "model.missing_tensor"},
		{"missing untied classifier", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == Output {
				return nil, errors.New("absent")
			}
			return t, nil
		}, Output, "model.missing_tensor"},
		{"nil tensor", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == OutputNorm {
				return nil, nil
			}
			return t, nil
		}, OutputNorm, "model.missing_tensor"},
		{"wrong shape", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == q {
				t.Shape = []int{t.Shape[0] * t.Shape[1]}
			}
			return t, nil
		}, q, "model.tensor_shape"},
		{"unknown dtype", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == q {
				t.DType = 9
			}
			return t, nil
		}, q, "model.tensor_dtype"},
		{"short data", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == TokenEmbd {
				t.Data = t.Data[:len(t.Data)-4]
			}
			return t, nil
		}, TokenEmbd, "model.tensor_size"},
		{"quantized without scales", nil, func(n string, t *tensor.Tensor) (*tensor.Tensor, error) {
			if n == q {
				t.DType, t.Data = tensor.Q8_0, t.Data[:len(t.Data)/4]
			}
			return t, nil
		}, q, "model.tensor_scales"},
	} {
		c := cfg
		if tc.cfg != nil {
			tc.cfg(&c)
		}
		get := base
		if tc.mod != nil {
			get = func(n string) (*tensor.Tensor, error) {
				t, err := base(n)
				if err != nil {
					return nil, err
				}
				return tc.mod(n, t)
			}
		}
		_, err := New(c, get)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.Code != tc.code || e.Tensor != tc.tensor {
			t.Errorf("%s: got %v, want ModelError %s naming tensor %q", tc.what, err, tc.code, tc.tensor)
		}
	}
}

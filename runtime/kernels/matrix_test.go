package kernels

import (
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// TestNewMatrixErrors checks that every malformed weight is a model error
// with its own code, naming the tensor.
func TestNewMatrixErrors(t *testing.T) {
	good := func() *tensor.Tensor {
		return &tensor.Tensor{Name: "w", DType: tensor.Q8_0, Shape: []int{2, 32}, Data: make([]byte, 64), Scales: make([]float32, 2)}
	}
	for _, tc := range []struct {
		what       string
		t          *tensor.Tensor
		rows, cols int
		code       string
	}{
		{"nil", nil, 2, 32, "model.missing_tensor"},
		{"wrong shape", good(), 32, 2, "model.tensor_shape"},
		{"negative shape", &tensor.Tensor{DType: tensor.F32, Shape: []int{-1, -4}, Data: make([]byte, 16)}, -1, -4, "model.tensor_shape"},
		{"overflowing shape", &tensor.Tensor{DType: tensor.F32, Shape: []int{1 << 31, 1 << 31}}, 1 << 31, 1 << 31, "model.tensor_shape"},
		{"unknown dtype", &tensor.Tensor{DType: 9, Shape: []int{2, 32}}, 2, 32, "model.tensor_dtype"},
		{"partial block", &tensor.Tensor{DType: tensor.Q4_0, Shape: []int{3, 5}, Data: make([]byte, 8)}, 3, 5, "model.tensor_blocks"},
		{"short data", &tensor.Tensor{DType: tensor.F16, Shape: []int{2, 32}, Data: make([]byte, 127)}, 2, 32, "model.tensor_size"},
		{"missing scale", &tensor.Tensor{DType: tensor.Q8_0, Shape: []int{2, 32}, Data: make([]byte, 64), Scales: make([]float32, 1)}, 2, 32, "model.tensor_scales"},
		{"scales on f32", &tensor.Tensor{DType: tensor.F32, Shape: []int{1, 1}, Data: make([]byte, 4), Scales: make([]float32, 1)}, 1, 1, "model.tensor_scales"},
	} {
		_, err := NewMatrix(tc.t, "w", tc.rows, tc.cols)
		e, ok := omexerr.As(err)
		if !ok || e.Category != omexerr.Model || e.Code != tc.code || e.Tensor != "w" {
			t.Errorf("%s: got %v, want ModelError %s naming tensor w", tc.what, err, tc.code)
		}
	}
	m, err := NewMatrix(good(), "w", 2, 32)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows() != 2 || m.Cols() != 32 || m.DType() != tensor.Q8_0 || m.Name() != "w" {
		t.Errorf("accessors: %d %d %v %q", m.Rows(), m.Cols(), m.DType(), m.Name())
	}
}

// TestVector checks that an F32 vector is the tensor's own memory and that
// other dtypes are dequantized copies.
func TestVector(t *testing.T) {
	data := make([]byte, 8) // allocated, so 8-byte aligned: viewable in place
	copy(data, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0})
	f := &tensor.Tensor{DType: tensor.F32, Shape: []int{2}, Data: data}
	v, err := Vector(f, "f", 2)
	if err != nil || v[0] != 1 || v[1] != -2 {
		t.Fatalf("f32 vector: %v %v", v, err)
	}
	f.Data[2], f.Data[3] = 0, 0x40 // 2.0: the view must see the change
	if hostLittleEndian && v[0] != 2 {
		t.Error("F32 vector was copied instead of viewed in place")
	}
	h := &tensor.Tensor{DType: tensor.BF16, Shape: []int{2}, Data: []byte{0xc0, 0x3e, 0x80, 0xbf}}
	if v, err := Vector(h, "h", 2); err != nil || v[0] != 0.375 || v[1] != -1 {
		t.Errorf("bf16 vector: %v %v", v, err)
	}
	if _, err := Vector(h, "h", 3); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("wrong length: %v", err)
	}
}

// TestMatVecSerialPathAllocatesNothing: a decode loop calls MatVec for every
// weight on every token, so the small-matrix path must not allocate.
func TestMatVecSerialPathAllocatesNothing(t *testing.T) {
	w := &tensor.Tensor{Name: "w", DType: tensor.F32, Shape: []int{8, 8}, Data: make([]byte, 8*8*4)}
	m, err := NewMatrix(w, "w", 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	out, x := make([]float32, 8), make([]float32, 8)
	if a := testing.AllocsPerRun(100, func() { m.MatVec(out, x) }); a != 0 {
		t.Fatalf("MatVec allocates %v times per call", a)
	}
}

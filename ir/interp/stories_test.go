package interp_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/frontend/lower"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/ir/interp"
	"github.com/omex-dev/omex/runtime/model"
)

// openStories opens the fp32 stories260K checkpoint with its tokenizer.
func openStories(t testing.TB) frontend.Source {
	dir := filepath.Join(testfiles.Shared(t), "models", "stories260K")
	src, err := importer.Open(filepath.Join(dir, "stories260K.bin"), importer.OpenOptions{Tokenizer: filepath.Join(dir, "tok512.bin")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// goldenIDs reads run.c's greedy "Once upon a time" ids (positions 1..256).
func goldenIDs(t testing.TB) []int {
	return testfiles.ReadIDs(t, filepath.Join(testfiles.Shared(t), "golden", "stories260K.run_c.once_upon.t0.n256.ids.txt"))
}

// lowered is stories260K lowered to IR and ready to run, with the
// reference model on the same tensors.
func lowered(t testing.TB) (*interp.Interp, *model.Model) {
	src := openStories(t)
	m, err := lower.Lower(src)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.New(src.Config(), src.ReadTensor)
	if err != nil {
		t.Fatal(err)
	}
	return newInterp(t, m, src.ReadTensor), ref
}

// TestStories260K runs the lowered stories260K end to end: a prefill of
// BOS + "Once upon a time" whose every row equals runtime/model's logits
// bit for bit, then greedy decode steps, each step's logits bit-identical
// to the reference and the ids run.c's golden ones.
func TestStories260K(t *testing.T) {
	ip, ref := lowered(t)
	golden := goldenIDs(t)
	prompt := append([]int{1}, golden[:4]...) // BOS, then the prompt's ids
	v := ref.Config().Vocab
	rows := call(t, ip, lower.Prefill, interp.Tokens(prompt...), interp.Scalar(0))
	var last []float32
	for pos, tok := range prompt {
		want, err := ref.Forward(tok, pos)
		if err != nil {
			t.Fatal(err)
		}
		wantBits(t, fmt.Sprintf("prefill row %d", pos), rows[pos*v:(pos+1)*v], want)
		last = rows[pos*v : (pos+1)*v]
	}
	for pos := len(prompt); pos <= len(golden); pos++ {
		next := argmaxRef(last)
		if next != golden[pos-1] {
			t.Fatalf("position %d: greedy id %d, run.c's %d", pos, next, golden[pos-1])
		}
		if pos == len(golden) {
			break
		}
		last = call(t, ip, lower.Decode, interp.Tokens(next), interp.Scalar(pos))
		want, err := ref.Forward(next, pos)
		if err != nil {
			t.Fatal(err)
		}
		wantBits(t, fmt.Sprintf("decode at %d", pos), last, want)
	}
}

// BenchmarkDecode compares a decode step of the interpreter on the lowered
// stories260K with runtime/model's Forward on the same weights. The two
// alternate step by step over a full 512-position context (attention grows
// with the position), each timed on its own, so load from other processes
// affects both alike; it reports each one's tokens/s and their ratio.
func BenchmarkDecode(b *testing.B) {
	ip, ref := lowered(b)
	seq, vocab := ref.Config().SeqLen, ref.Config().Vocab
	var tIP, tRef time.Duration
	pos := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if pos == seq {
			pos = 0
		}
		tok := (i * 7) % vocab
		start := time.Now()
		if _, err := ip.Call(lower.Decode, interp.Tokens(tok), interp.Scalar(pos)); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := ref.Forward(tok, pos); err != nil {
			b.Fatal(err)
		}
		tIP, tRef = tIP+mid.Sub(start), tRef+time.Since(mid)
		pos++
	}
	b.ReportMetric(float64(b.N)/tIP.Seconds(), "interp-tok/s")
	b.ReportMetric(float64(b.N)/tRef.Seconds(), "model-tok/s")
	b.ReportMetric(tIP.Seconds()/tRef.Seconds(), "interp/model")
}

package telemetry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/tensor"
)

func TestPeakRSS(t *testing.T) {
	p := filepath.Join(t.TempDir(), "status")
	os.WriteFile(p, []byte("Name:\tx\nVmPeak:\t  9999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1000 kB\n"), 0o644)
	if got := peakRSSFrom(p); got != 2048<<10 {
		t.Fatalf("VmHWM read as %d", got)
	}
	if got := peakRSSFrom(filepath.Join(t.TempDir(), "absent")); got != 0 {
		t.Fatalf("absent file gave %d", got)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil {
		// The test binary itself holds at least its heap.
		if PeakRSS() < 1<<20 {
			t.Fatalf("PeakRSS %d on a live process", PeakRSS())
		}
	}
}

func TestFromResult(t *testing.T) {
	r := &generate.Result{PromptIDs: make([]int, 4), IDs: make([]int, 50), Reason: generate.StopMaxTokens,
		PromptTime: 20 * time.Millisecond, FirstToken: 25 * time.Millisecond, GenerateTime: 500 * time.Millisecond}
	m := FromResult(r)
	if m.PromptTokens != 4 || m.GeneratedTokens != 50 || m.TokensPerSecond != 100 || m.PromptTokensPerSecond != 200 ||
		m.TimeToFirstTokenMS != 25 || m.StopReason != "max_tokens" {
		t.Fatalf("%+v", m)
	}
	b, err := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"tokens_per_second":100`) {
		t.Fatalf("json %s %v", b, err)
	}
}

func TestTrafficOf(t *testing.T) {
	infos := []tensor.Info{
		{Name: "token_embd.weight", DType: tensor.F32, Shape: []int{64, 32}},
		{Name: "blk.0.attn_q.weight", DType: tensor.Q8_0, Shape: []int{32, 32}},
		{Name: "output_norm.weight", DType: tensor.F32, Shape: []int{32}},
		{Name: "output.weight", DType: tensor.F32, Shape: []int{64, 32}},
	}
	w := TrafficOf(infos)
	// attn_q: 1024 + 32 scales*4; norm 128; output 8192. Embedding skipped.
	if w.PerToken != 1024+128+128+8192 {
		t.Fatalf("per token %d", w.PerToken)
	}
	if w.ByDType["F32"] != 8320 && w.ByDType["f32"] != 8320 {
		t.Fatalf("by dtype %v", w.ByDType)
	}
	if want := int64(512 + 128 + 128 + 1024 + 256); w.AsQ4_0 != want {
		t.Fatalf("as q4_0 %d want %d", w.AsQ4_0, want)
	}
	// Tied: no output.weight, so the embedding is the classifier, read whole.
	if tied := TrafficOf(infos[:3]); tied.PerToken != 8192+1024+128+128 {
		t.Fatalf("tied per token %d", tied.PerToken)
	}
}

func TestDeriveInsights(t *testing.T) {
	f32 := TrafficOf([]tensor.Info{{Name: "output.weight", DType: tensor.F32, Shape: []int{25600, 1024}}}) // 100 MiB
	m := RunMetrics{GeneratedTokens: 100, GenerateMS: 2000, TokensPerSecond: 50, Cache: "miss"}
	m.Derive(f32, 6e9)
	// 104857600 B * 50/s = 5.24 GB/s of 6 GB/s: 87%.
	if len(m.Insights) != 1 || !strings.Contains(m.Insights[0], "memory-bound at 87% of measured bandwidth") ||
		!strings.Contains(m.Insights[0], "q4_0 would cut bytes per token 6.4x (q8_0: 3.6x)") {
		t.Fatalf("insights %q", m.Insights)
	}
	if m.WeightReadGBps < 5.2 || m.WeightReadGBps > 5.3 {
		t.Fatalf("read rate %v", m.WeightReadGBps)
	}

	m = RunMetrics{GeneratedTokens: 100, GenerateMS: 2000, TokensPerSecond: 5, Cache: "miss"}
	m.Derive(f32, 6e9)
	if !strings.Contains(m.Insights[0], "not memory-bound") || !strings.Contains(m.Insights[0], "9% of measured bandwidth") {
		t.Fatalf("insights %q", m.Insights)
	}

	m = RunMetrics{GeneratedTokens: 3, GenerateMS: 5, TokensPerSecond: 600, Cache: "miss"}
	m.Derive(f32, 6e9)
	if !strings.Contains(m.Insights[0], "too little decoding") {
		t.Fatalf("insights %q", m.Insights)
	}
	m = RunMetrics{Cache: "hit"}
	m.Derive(f32, 0)
	if !strings.Contains(m.Insights[0], "result cache") {
		t.Fatalf("insights %q", m.Insights)
	}
}

func TestMeasureCopyBandwidth(t *testing.T) {
	bw := MeasureCopyBandwidth(1<<20, 2, 3)
	// Any real machine copies 1 MiB faster than 100 MB/s and slower than 10 TB/s.
	if bw < 1e8 || bw > 1e13 {
		t.Fatalf("bandwidth %v B/s", bw)
	}
	if MeasureCopyBandwidth(0, 1, 1) != 0 {
		t.Fatal("empty probe measured something")
	}
}

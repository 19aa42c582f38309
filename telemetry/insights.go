package telemetry

import (
	"fmt"

	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// WeightTraffic is how many weight bytes one decoded token reads, and what
// that would be if every matrix were stored as q8_0 or q4_0.
type WeightTraffic struct {
	PerToken int64
	ByDType  map[string]int64
	AsQ8_0   int64
	AsQ4_0   int64
}

// tensorBytes is a tensor's stored size: its elements plus, for quantized
// types, one float32 scale per block.
func tensorBytes(d tensor.DType, n int) int64 {
	b := int64(d.DataBytes(n))
	if d.Quantized() {
		b += int64(n/tensor.BlockSize) * 4
	}
	return b
}

// TrafficOf sums the weights one decode step reads: every tensor except the
// token embedding, of which a step reads one row — unless the classifier
// is tied to it (no output.weight), when it is read whole.
func TrafficOf(infos []tensor.Info) WeightTraffic {
	tied := true
	for _, in := range infos {
		if in.Name == model.Output {
			tied = false
		}
	}
	w := WeightTraffic{ByDType: map[string]int64{}}
	for _, in := range infos {
		if in.Name == model.TokenEmbd && !tied {
			continue
		}
		n := 1
		for _, s := range in.Shape {
			n *= s
		}
		b := tensorBytes(in.DType, n)
		w.PerToken += b
		w.ByDType[in.DType.String()] += b
		// Matrices whose rows split into whole blocks can be quantized;
		// norms and biases stay as they are.
		if len(in.Shape) == 2 && in.Shape[1]%tensor.BlockSize == 0 {
			w.AsQ8_0 += tensorBytes(tensor.Q8_0, n)
			w.AsQ4_0 += tensorBytes(tensor.Q4_0, n)
		} else {
			w.AsQ8_0 += b
			w.AsQ4_0 += b
		}
	}
	return w
}

// Thresholds of the insights. Below minDecodeMS or minTokens the decode
// rate is mostly timer noise and no claim is made; at or above memoryBound
// of the measured bandwidth, decode is taken as memory-bound.
const (
	minTokens   = 8
	minDecodeMS = 20.0
	memoryBound = 0.6
)

// Derive fills the weight traffic, the achieved read rate and the insights
// from the metrics' real numbers and a measured copy bandwidth (bytes/s;
// 0 when not measured). It claims only what the numbers support.
func (m *RunMetrics) Derive(w WeightTraffic, copyBytesPerSec float64) {
	m.WeightBytesPerToken = w.PerToken
	m.WeightBytesByDType = w.ByDType
	m.CopyBandwidthGBps = copyBytesPerSec / 1e9
	m.WeightReadGBps = float64(w.PerToken) * m.TokensPerSecond / 1e9
	m.Insights = []string{}
	if m.Cache == "hit" {
		m.Insights = append(m.Insights, "the result came from the result cache: no model computation ran")
		return
	}
	if m.GeneratedTokens < minTokens || m.GenerateMS < minDecodeMS {
		m.Insights = append(m.Insights, fmt.Sprintf("too little decoding (%d tokens in %.1fms) to judge its speed", m.GeneratedTokens, m.GenerateMS))
		return
	}
	if copyBytesPerSec <= 0 || w.PerToken <= 0 {
		return
	}
	frac := m.WeightReadGBps / m.CopyBandwidthGBps
	mib := float64(w.PerToken) / (1 << 20)
	if frac >= memoryBound {
		s := fmt.Sprintf("decode is memory-bound at %.0f%% of measured bandwidth: it reads %.1f MiB of weights per token at %.1f GB/s (copy probe: %.1f GB/s)",
			100*frac, mib, m.WeightReadGBps, m.CopyBandwidthGBps)
		if r := float64(w.PerToken) / float64(w.AsQ4_0); r >= 1.2 {
			s += fmt.Sprintf("; q4_0 would cut bytes per token %.1fx (q8_0: %.1fx) vs %s", r, float64(w.PerToken)/float64(w.AsQ8_0), dominant(w.ByDType))
		}
		m.Insights = append(m.Insights, s)
		return
	}
	m.Insights = append(m.Insights, fmt.Sprintf("decode is not memory-bound: it reads %.2f MiB of weights per token at %.2f GB/s, %.0f%% of measured bandwidth (copy probe: %.1f GB/s), so time goes to compute or the weights stay in CPU caches; smaller weights would not speed it up in proportion",
		mib, m.WeightReadGBps, 100*frac, m.CopyBandwidthGBps))
}

// dominant names the dtype holding most weight bytes.
func dominant(by map[string]int64) string {
	best, n := "", int64(-1)
	for d, b := range by {
		if b > n || (b == n && d < best) {
			best, n = d, b
		}
	}
	return best
}

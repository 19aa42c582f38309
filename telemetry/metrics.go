package telemetry

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omex-dev/omex/runtime/generate"
)

// RunMetrics are the measurements of one `omexc run`, JSON-serialisable for
// --metrics-json. Times are milliseconds; rates are per second.
type RunMetrics struct {
	Model           string `json:"model"`
	PromptTokens    int    `json:"prompt_tokens"`
	GeneratedTokens int    `json:"generated_tokens"`
	StopReason      string `json:"stop_reason"`

	LoadMS                float64 `json:"load_ms"`   // opening the model and building the runtime
	PromptMS              float64 `json:"prompt_ms"` // feeding the prompt
	TimeToFirstTokenMS    float64 `json:"time_to_first_token_ms"`
	GenerateMS            float64 `json:"generate_ms"` // producing the new tokens
	PromptTokensPerSecond float64 `json:"prompt_tokens_per_second"`
	TokensPerSecond       float64 `json:"tokens_per_second"` // decode rate

	PeakRSSBytes int64 `json:"peak_rss_bytes"` // VmHWM: the process's peak resident memory
	Threads      int   `json:"threads"`        // GOMAXPROCS during the run

	Sampling Sampling `json:"sampling"`

	Cache string `json:"cache"` // "hit", "miss" or "off"

	// Weight traffic: every weight but the token embedding (of which one
	// row is read) is read once per decoded token.
	WeightBytesPerToken int64            `json:"weight_bytes_per_token"`
	WeightBytesByDType  map[string]int64 `json:"weight_bytes_by_dtype,omitempty"`
	WeightReadGBps      float64          `json:"weight_read_gb_per_s"`
	CopyBandwidthGBps   float64          `json:"measured_copy_gb_per_s"` // in-process probe, bytes read + written

	// OpTimes is the time per IR op kind on the IR path, longest first.
	OpTimes []OpTime `json:"op_times,omitempty"`

	Insights []string `json:"insights"`
}

// OpTime is the time the run spent in one op kind (prefill and decode).
type OpTime struct {
	Op    string  `json:"op"`
	Calls int     `json:"calls"`
	MS    float64 `json:"ms"`
}

// Sampling are the parameters the run used, so a metrics file says how its
// output can be reproduced.
type Sampling struct {
	MaxTokens     int     `json:"max_tokens"`
	Temperature   float32 `json:"temperature"`
	TopP          float32 `json:"top_p"`
	TopK          int     `json:"top_k"`
	MinP          float32 `json:"min_p"`
	RepeatPenalty float32 `json:"repeat_penalty"`
	Seed          uint64  `json:"seed"`
	SeedFixed     bool    `json:"seed_fixed"` // false: the seed came from the clock
}

// FromResult fills the token counts and timings of a generation.
func FromResult(r *generate.Result) RunMetrics {
	m := RunMetrics{
		PromptTokens:       len(r.PromptIDs),
		GeneratedTokens:    len(r.IDs),
		StopReason:         string(r.Reason),
		PromptMS:           ms(r.PromptTime),
		TimeToFirstTokenMS: ms(r.FirstToken),
		GenerateMS:         ms(r.GenerateTime),
		Insights:           []string{},
	}
	if r.PromptTime > 0 {
		m.PromptTokensPerSecond = float64(m.PromptTokens) / r.PromptTime.Seconds()
	}
	if r.GenerateTime > 0 {
		m.TokensPerSecond = float64(m.GeneratedTokens) / r.GenerateTime.Seconds()
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Human is the one-line summary `omexc run --metrics` prints, followed by
// one line per insight.
func (m *RunMetrics) Human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prompt: %d tokens in %.3fms; first token after %.3fms; generated %d tokens in %.3fms (%.1f tokens/s); stop: %s; peak RSS %.1f MiB; threads %d; cache %s",
		m.PromptTokens, m.PromptMS, m.TimeToFirstTokenMS, m.GeneratedTokens, m.GenerateMS, m.TokensPerSecond, m.StopReason,
		float64(m.PeakRSSBytes)/(1<<20), m.Threads, m.Cache)
	if len(m.OpTimes) > 0 {
		var total float64
		for _, o := range m.OpTimes {
			total += o.MS
		}
		b.WriteString("\ntime per op:")
		for _, o := range m.OpTimes {
			fmt.Fprintf(&b, " %s %.1f%% (%.3fms/%d),", o.Op, 100*o.MS/max(total, 1e-9), o.MS, o.Calls)
		}
		s := strings.TrimSuffix(b.String(), ",")
		b.Reset()
		b.WriteString(s)
	}
	for _, in := range m.Insights {
		b.WriteString("\ninsight: ")
		b.WriteString(in)
	}
	return b.String()
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM in
// /proc/self/status), or 0 where that is not available.
func PeakRSS() int64 { return peakRSSFrom("/proc/self/status") }

func peakRSSFrom(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[0] == "VmHWM:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb < 0 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

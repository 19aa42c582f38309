package interp

import (
	"sort"
	"time"
)

// OpTime is the time spent in one op kind across calls, for --metrics.
type OpTime struct {
	Op    string        `json:"op"`
	Calls int           `json:"calls"`
	Time  time.Duration `json:"time_ns"`
}

// profile accumulates per-op wall time while enabled.
type profile struct {
	byOp map[string]*OpTime
}

// EnableProfile makes every later Call time each instruction and add the
// time to its op kind. It costs two clock reads per instruction, so it is
// off unless asked for.
func (ip *Interp) EnableProfile() {
	if ip.prof == nil {
		ip.prof = &profile{byOp: map[string]*OpTime{}}
	}
}

// Profile returns the time per op kind since EnableProfile, longest first;
// nil when profiling is off.
func (ip *Interp) Profile() []OpTime {
	if ip.prof == nil {
		return nil
	}
	out := make([]OpTime, 0, len(ip.prof.byOp))
	for _, t := range ip.prof.byOp {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Op < out[j].Op
	})
	return out
}

func (pr *profile) add(op string, d time.Duration) {
	t := pr.byOp[op]
	if t == nil {
		t = &OpTime{Op: op}
		pr.byOp[op] = t
	}
	t.Calls++
	t.Time += d
}

// Package sample picks the next token from a model's logits: repetition
// penalty, temperature, top-k, min-p and top-p, drawn with a seeded
// platform-independent generator so a seed always gives the same text.
package sample

import (
	"math"

	"github.com/omex-dev/omex/omexerr"
)

// Params are the sampling settings. The zero value is invalid (TopP and
// RepetitionPenalty must be positive); start from Defaults.
type Params struct {
	Temperature       float32 // 0 picks the most likely token (greedy)
	TopP              float32 // nucleus mass in (0, 1]; 1 keeps everything
	MinP              float32 // in [0, 1): drop tokens below MinP x the best one's probability; 0 keeps everything
	RepetitionPenalty float32 // > 0; 1 leaves logits alone, > 1 discourages repeats
	TopK              int     // keep only the K most likely tokens; 0 keeps everything
	Seed              uint64  // the random stream; 0 is a valid seed like any other
}

// Defaults are plain sampling at temperature 1 with every filter off.
func Defaults() Params {
	return Params{Temperature: 1, TopP: 1, RepetitionPenalty: 1}
}

// The command-line flags each parameter comes from, named in errors so the
// user knows which one to fix.
const (
	FlagTemperature       = "--temperature"
	FlagTopP              = "--top-p"
	FlagMinP              = "--min-p"
	FlagTopK              = "--top-k"
	FlagRepetitionPenalty = "--repeat-penalty"
)

// Validate checks every parameter's range and returns an InputError naming
// the offending flag.
func (p Params) Validate() error {
	bad := func(flag, format string, v any) error {
		return omexerr.Inputf("input.bad_sampling_param", format, v).WithFlag(flag)
	}
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	switch {
	case !finite(p.Temperature) || p.Temperature < 0:
		return bad(FlagTemperature, "temperature %v must be a finite number >= 0", p.Temperature)
	case !(p.TopP > 0 && p.TopP <= 1):
		return bad(FlagTopP, "top-p %v must be in (0, 1]", p.TopP)
	case !(p.MinP >= 0 && p.MinP < 1):
		return bad(FlagMinP, "min-p %v must be in [0, 1)", p.MinP)
	case p.TopK < 0:
		return bad(FlagTopK, "top-k %v must be >= 0", p.TopK)
	case !finite(p.RepetitionPenalty) || p.RepetitionPenalty <= 0:
		return bad(FlagRepetitionPenalty, "repetition penalty %v must be a finite number > 0", p.RepetitionPenalty)
	}
	return nil
}

// Package resultcache is the on-disk cache of `omexc run` results: a
// deterministic run (greedy, or with a fixed seed) of the same model,
// prompt and parameters produces the same text, so it is stored once and
// replayed. The cache is bounded in bytes and evicts the least recently
// used results first.
package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/omex-dev/omex/runtime/sample"
)

// keyVersion changes whenever what a key covers changes, so old entries
// are never mistaken for new ones.
const keyVersion = "omex-resultcache-1"

// Request is everything that decides a run's output.
type Request struct {
	Model     string `json:"model"`     // ModelIdentity of the model
	Tokenizer string `json:"tokenizer"` // identity of a separate tokenizer file, "" when none
	// Engine names what computes the tokens and how (runtime, precision
	// policy, program version): runs that may differ numerically must
	// differ here.
	Engine        string        `json:"engine"`
	Prompt        string        `json:"prompt"`
	Sampling      sample.Params `json:"sampling"`
	MaxTokens     int           `json:"max_tokens"`
	Stop          []string      `json:"stop"`
	NoBOS         bool          `json:"no_bos"`
	NoEcho        bool          `json:"no_echo"`
	PenaltyWindow int           `json:"penalty_window"`
}

// Deterministic reports whether a run with these parameters always gives
// the same output: greedy decoding, or sampling from a seed the user fixed
// (a seed taken from the clock differs every run).
func Deterministic(p sample.Params, seedFixed bool) bool {
	return p.Temperature == 0 || seedFixed
}

// Key is the cache key of a request: the hex SHA-256 of every field in a
// fixed order, strings length-prefixed and floats as their bits, so no two
// requests share an encoding. Greedy decoding never draws a random number,
// so its seed is left out and every greedy run of the request shares one
// entry.
func Key(r Request) string {
	h := sha256.New()
	str := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	num := func(v any) { fmt.Fprintf(h, "%v;", v) }
	p := r.Sampling
	if p.Temperature == 0 {
		p.Seed = 0
	}
	str(keyVersion)
	str(r.Model)
	str(r.Tokenizer)
	str(r.Engine)
	str(r.Prompt)
	for _, f := range []float32{p.Temperature, p.TopP, p.MinP, p.RepetitionPenalty} {
		num(math.Float32bits(f))
	}
	num(p.TopK)
	num(p.Seed)
	num(r.MaxTokens)
	num(len(r.Stop))
	for _, s := range r.Stop {
		str(s)
	}
	num(r.NoBOS)
	num(r.NoEcho)
	num(r.PenaltyWindow)
	return hex.EncodeToString(h.Sum(nil))
}

// validKey reports whether s is a key Key could have made; only such
// names are ever joined to the cache directory.
func validKey(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

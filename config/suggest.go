package config

import (
	"strings"

	"github.com/omex-dev/omex/internal/editdist"
)

// closeEnough bounds how far a suggestion may be from what was typed: a
// third of its length, at least 2, so "tmp" does not become "top_p" but
// "temprature" becomes "temperature".
func closeEnough(typed string, d int) bool {
	return d <= max(2, len(typed)/3)
}

// suggestKey returns the valid key nearest to an unknown "section.key"
// (or bare "key"), or "" when none is close. A key placed in the wrong
// section (e.g. runtime.cache_dir) is matched by its last part.
func suggestKey(unknown string) string {
	sec, name, hasSec := strings.Cut(unknown, ".")
	if !hasSec {
		name, sec = sec, ""
	}
	best, bestD := "", 1<<30
	for _, k := range allKeys {
		d := editdist.Levenshtein(unknown, k.full)
		// The same key name in another section costs one edit.
		if nd := editdist.Levenshtein(name, k.name) + 1; sec != k.section && nd < d {
			d = nd
		}
		if d < bestD {
			best, bestD = k.full, d
		}
	}
	if closeEnough(name, bestD) {
		return best
	}
	return ""
}

// suggestSection returns the section nearest to an unknown one, or "".
func suggestSection(unknown string) string {
	best, bestD := "", 1<<30
	for _, s := range sectionList {
		if d := editdist.Levenshtein(unknown, s); d < bestD {
			best, bestD = s, d
		}
	}
	if closeEnough(unknown, bestD) {
		return best
	}
	return ""
}

// didYouMean formats a suggestion for an error message.
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + s + "?)"
}

package config

import "strings"

// levenshtein is the edit distance between a and b (insertions, deletions
// and substitutions of bytes; keys are ASCII).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

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
		d := levenshtein(unknown, k.full)
		// The same key name in another section costs one edit.
		if nd := levenshtein(name, k.name) + 1; sec != k.section && nd < d {
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
		if d := levenshtein(unknown, s); d < bestD {
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

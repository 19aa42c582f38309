package sample

import "slices"

// byBetter orders candidates best first: higher value, then lower id. It is
// a total order, so any sort gives the same result on every platform.
func byBetter(a, b cand) int {
	switch {
	case a.v > b.v:
		return -1
	case a.v < b.v:
		return 1
	}
	return int(a.id) - int(b.id)
}

// argmax returns the best candidate (the lowest id among equal values).
func argmax(c []cand) cand {
	best := c[0]
	for _, x := range c[1:] {
		if byBetter(x, best) < 0 {
			best = x
		}
	}
	return best
}

// topK moves the k best candidates to the front of c, sorted best first,
// and returns them. It keeps the k best seen so far in a heap with the
// worst at the root, so it costs O(n log k) rather than a full sort.
func topK(c []cand, k int) []cand {
	h := c[:k]
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, x := range c[k:] {
		if byBetter(x, h[0]) < 0 {
			h[0] = x
			siftDown(h, 0)
		}
	}
	slices.SortFunc(h, byBetter)
	return h
}

// siftDown restores the worst-at-root heap property below node i.
func siftDown(h []cand, i int) {
	for {
		worst := i
		for _, ch := range [2]int{2*i + 1, 2*i + 2} {
			if ch < len(h) && byBetter(h[ch], h[worst]) > 0 {
				worst = ch
			}
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

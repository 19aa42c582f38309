package format

import "strconv"

// itoa is strconv.Itoa, short for building messages.
func itoa(n int) string { return strconv.Itoa(n) }

// equalShapes reports whether two shapes are the same.
func equalShapes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

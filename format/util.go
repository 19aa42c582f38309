package format

import "strconv"

// itoa is strconv.Itoa, short for building messages.
func itoa(n int) string { return strconv.Itoa(n) }

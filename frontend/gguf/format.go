package gguf

import (
	"fmt"
	"strconv"
	"strings"
)

// Format renders the value for display (omexc inspect): strings quoted,
// arrays as their length and at most maxElems leading elements.
func (kv KV) Format(maxElems int) string { return formatValue(kv.Value, maxElems) }

func formatValue(v any, maxElems int) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case *Array:
		n := x.Len()
		var b strings.Builder
		fmt.Fprintf(&b, "[%d]{", n)
		for i := range min(n, maxElems) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(formatValue(x.elem(i), maxElems))
		}
		if n > maxElems {
			b.WriteString(", ...")
		}
		b.WriteString("}")
		return b.String()
	}
	return fmt.Sprint(v)
}

// elem returns element i of any array as an any.
func (a *Array) elem(i int) any {
	switch v := a.Values.(type) {
	case []float32:
		return v[i]
	case []float64:
		return v[i]
	case []bool:
		return v[i]
	case []string:
		return v[i]
	case []*Array:
		return v[i]
	}
	return a.index(i)
}

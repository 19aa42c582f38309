package gguf

import "math"

// String returns the string value of key.
func (g *File) String(key string) (string, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return "", false
	}
	s, ok := kv.Value.(string)
	return s, ok
}

// Uint returns the value of key if it is a non-negative integer of any width.
func (g *File) Uint(key string) (uint64, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return 0, false
	}
	return toUint(kv.Value)
}

// Int returns the value of key if it is an integer of any width that fits an int64.
func (g *File) Int(key string) (int64, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return 0, false
	}
	return toInt(kv.Value)
}

// Float returns the value of key if it is a float32 or float64.
func (g *File) Float(key string) (float64, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return 0, false
	}
	switch v := kv.Value.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// Bool returns the boolean value of key.
func (g *File) Bool(key string) (bool, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return false, false
	}
	b, ok := kv.Value.(bool)
	return b, ok
}

// Array returns the array value of key.
func (g *File) Array(key string) (*Array, bool) {
	kv, ok := g.Lookup(key)
	if !ok {
		return nil, false
	}
	a, ok := kv.Value.(*Array)
	return a, ok
}

// Strings returns the value of key if it is an array of strings.
func (g *File) Strings(key string) ([]string, bool) {
	a, ok := g.Array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Float32s returns the value of key as float32s if it is an array of
// float32 or float64.
func (g *File) Float32s(key string) ([]float32, bool) {
	a, ok := g.Array(key)
	if !ok {
		return nil, false
	}
	switch v := a.Values.(type) {
	case []float32:
		return v, true
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns the value of key as int32s if it is an array of integers
// that all fit an int32.
func (g *File) Int32s(key string) ([]int32, bool) {
	a, ok := g.Array(key)
	if !ok {
		return nil, false
	}
	if v, ok := a.Values.([]int32); ok {
		return v, true
	}
	out := make([]int32, a.Len())
	for i := range out {
		x, ok := toInt(a.index(i))
		if !ok || x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// index returns element i of an integer or float array as an any, nil otherwise.
func (a *Array) index(i int) any {
	switch v := a.Values.(type) {
	case []uint8:
		return v[i]
	case []int8:
		return v[i]
	case []uint16:
		return v[i]
	case []int16:
		return v[i]
	case []uint32:
		return v[i]
	case []int32:
		return v[i]
	case []uint64:
		return v[i]
	case []int64:
		return v[i]
	}
	return nil
}

func toUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8, int16, int32, int64:
		i, _ := toInt(x)
		return uint64(i), i >= 0
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	}
	return 0, false
}

package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// fields is a JSON object whose keys are looked up exactly (encoding/json's
// struct decoding would also match "Hidden_Size"). A null value counts as
// absent, as it does for Hugging Face's config classes.
type fields map[string]json.RawMessage

// parseFields decodes a JSON object.
func parseFields(data []byte) (fields, error) {
	var f fields
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return f, nil
}

// has reports whether key is present and not null.
func (f fields) has(key string) bool {
	raw, ok := f[key]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// integer returns key as an int, or def when absent.
func (f fields) integer(key string, def int) (int, error) {
	if !f.has(key) {
		return def, nil
	}
	// json.Number would also accept a quoted "12"; HF writes numbers bare.
	var n json.Number
	if raw := bytes.TrimSpace(f[key]); len(raw) > 0 && raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("%s is not a number", key)
	}
	v, err := n.Int64()
	if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%s = %s is not an integer in range", key, n)
	}
	return int(v), nil
}

// float returns key as a finite float64, or def when absent.
func (f fields) float(key string, def float64) (float64, error) {
	if !f.has(key) {
		return def, nil
	}
	var v float64
	if err := json.Unmarshal(f[key], &v); err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%s is not a finite number", key)
	}
	return v, nil
}

// boolean returns key as a bool, or def when absent.
func (f fields) boolean(key string, def bool) (bool, error) {
	if !f.has(key) {
		return def, nil
	}
	var v bool
	if err := json.Unmarshal(f[key], &v); err != nil {
		return false, fmt.Errorf("%s is not true or false", key)
	}
	return v, nil
}

// str returns key as a string, or "" when absent.
func (f fields) str(key string) (string, error) {
	if !f.has(key) {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(f[key], &v); err != nil {
		return "", fmt.Errorf("%s is not a string", key)
	}
	return v, nil
}

// object returns key as a nested object, or nil when absent.
func (f fields) object(key string) (fields, error) {
	if !f.has(key) {
		return nil, nil
	}
	o, err := parseFields(f[key])
	if err != nil {
		return nil, fmt.Errorf("%s is not an object", key)
	}
	return o, nil
}

// ids returns key as a token id list: HF writes a single id or a list of
// them (several end-of-sequence ids, for instance). Absent gives nil.
func (f fields) ids(key string) ([]int, error) {
	if !f.has(key) {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(f[key], &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(f[key], &many); err != nil {
		return nil, fmt.Errorf("%s is neither a token id nor a list of them", key)
	}
	return many, nil
}

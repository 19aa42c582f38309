package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// keyInfo describes one configuration key, found by reflection over the
// Config struct so the key set is declared in exactly one place.
type keyInfo struct {
	section, name string // "runtime", "temperature"
	full          string // "runtime.temperature"
	index         []int  // field index path from Config
	typ           reflect.Type
	path, secret  bool // omex:"path" (~ expanded), omex:"secret" (never shown)
}

var (
	allKeys     = buildKeys()
	keyIndex    = indexKeys(allKeys)
	sectionList = sectionsOf(allKeys)
)

func buildKeys() []*keyInfo {
	var out []*keyInfo
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		sf := ct.Field(i)
		sec := sf.Tag.Get("toml")
		if sec == "" || sec == "-" || sf.Type.Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < sf.Type.NumField(); j++ {
			kf := sf.Type.Field(j)
			name := kf.Tag.Get("toml")
			if name == "" {
				continue
			}
			tag := kf.Tag.Get("omex")
			out = append(out, &keyInfo{
				section: sec, name: name, full: sec + "." + name,
				index: []int{i, j}, typ: kf.Type,
				path: tag == "path", secret: tag == "secret",
			})
		}
	}
	return out
}

func indexKeys(ks []*keyInfo) map[string]*keyInfo {
	m := make(map[string]*keyInfo, len(ks))
	for _, k := range ks {
		m[k.full] = k
	}
	return m
}

func sectionsOf(ks []*keyInfo) []string {
	var out []string
	for _, k := range ks {
		if len(out) == 0 || out[len(out)-1] != k.section {
			out = append(out, k.section)
		}
	}
	return out
}

// Keys lists every configuration key as "section.key", in the order of
// docs/CONFIG.md.
func Keys() []string {
	out := make([]string, len(allKeys))
	for i, k := range allKeys {
		out[i] = k.full
	}
	return out
}

// Sections lists the configuration's sections.
func Sections() []string { return append([]string(nil), sectionList...) }

func isSection(s string) bool {
	for _, x := range sectionList {
		if x == s {
			return true
		}
	}
	return false
}

func (k *keyInfo) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(k.index)
}

// want names the type a key accepts, for error messages.
func (k *keyInfo) want() string {
	switch k.typ.Kind() {
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of strings"
	}
	return k.typ.String()
}

// setTOML stores a value decoded from TOML; ok is false when its type does
// not fit the key (an integer is accepted where a number is wanted).
func (k *keyInfo) setTOML(c *Config, v any) bool {
	f := k.field(c)
	switch k.typ.Kind() {
	case reflect.Int, reflect.Int64:
		n, ok := v.(int64)
		if !ok || (k.typ.Kind() == reflect.Int && int64(int(n)) != n) {
			return false
		}
		f.SetInt(n)
	case reflect.Float64:
		switch x := v.(type) {
		case float64:
			f.SetFloat(x)
		case int64:
			f.SetFloat(float64(x))
		default:
			return false
		}
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		f.SetBool(b)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return false
		}
		f.SetString(s)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return false
			}
			out = append(out, s)
		}
		f.Set(reflect.ValueOf(out))
	default:
		return false
	}
	return true
}

// setText stores a value given as text (an environment variable). Lists
// are comma-separated.
func (k *keyInfo) setText(c *Config, s string) bool {
	f := k.field(c)
	s2 := strings.TrimSpace(s)
	switch k.typ.Kind() {
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s2, 10, 64)
		if err != nil || (k.typ.Kind() == reflect.Int && int64(int(n)) != n) {
			return false
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s2, 64)
		if err != nil {
			return false
		}
		f.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(s2)
		if err != nil {
			return false
		}
		f.SetBool(b)
	case reflect.String:
		f.SetString(s)
	case reflect.Slice:
		out := []string{}
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
		f.Set(reflect.ValueOf(out))
	default:
		return false
	}
	return true
}

// envName is the environment variable that overrides key k.
func (k *keyInfo) envName() string {
	return "OMEX_" + strings.ToUpper(k.section) + "_" + strings.ToUpper(k.name)
}

// tomlValue renders the key's current value in TOML syntax.
func (k *keyInfo) tomlValue(c *Config) string {
	f := k.field(c)
	switch k.typ.Kind() {
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Float64:
		x := f.Float()
		if math.IsInf(x, 1) {
			return "inf"
		} else if math.IsInf(x, -1) {
			return "-inf"
		} else if math.IsNaN(x) {
			return "nan"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.String:
		return tomlQuote(f.String())
	case reflect.Slice:
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = tomlQuote(f.Index(i).String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(f.Interface())
}

// tomlQuote writes s as a TOML basic string: TOML has no \x escape, so
// control characters become \uXXXX.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

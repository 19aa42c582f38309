package resultcache

import (
	"strings"
	"testing"
)

// FuzzDecodeIndex: a damaged index.json is an error, never a panic, and
// what decodes has only well-formed keys.
func FuzzDecodeIndex(f *testing.F) {
	k := strings.Repeat("a", 64)
	f.Add([]byte(`{"version":1,"clock":3,"entries":{"` + k + `":{"size":10,"last_use":2}},"files":{"/m":{"size":1,"mtime_ns":5,"sha256":"` + k + `"}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"entries":{"../x":{"size":1}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := decodeIndex(b)
		if err != nil {
			return
		}
		for key, e := range ix.Entries {
			if !validKey(key) || e.Size < 0 {
				t.Fatalf("accepted entry %q %+v", key, e)
			}
		}
	})
}

// FuzzDecodeEntry: an entry file decodes only as the entry of its key.
func FuzzDecodeEntry(f *testing.F) {
	k := strings.Repeat("b", 64)
	f.Add([]byte(`{"key":"`+k+`","output":"x","ids":[1,2]}`), k)
	f.Add([]byte(`{"key":"`+k+`"`), k)
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		e, err := decodeEntry(b, key)
		if err == nil && e.Key != key {
			t.Fatalf("entry for %q decoded as %q", key, e.Key)
		}
	})
}

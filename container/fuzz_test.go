package container

import "testing"

// FuzzParse feeds arbitrary bytes to Parse; whatever parses must validate,
// order and write back without panicking, and what it writes must parse.
func FuzzParse(f *testing.F) {
	data, err := codeContainer(f).JSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"omex_version":"1.0","execution_graph":{"entry_node":"a","nodes":[{"id":"a","dependencies":["a"],"inputs":["x=1","a.b"]}]}}`))
	f.Add([]byte(`{"execution_graph":{"nodes":[{"id":"a","dependencies":["b"]},{"id":"b","dependencies":["a"],"executor":"local_cpu","type":"chunk_text","inputs":["size=5"]}]}}`))
	f.Add([]byte(`{"resources":{"timeout_seconds":1e400}}`))
	f.Add([]byte(`{"execution_config":{"temperature":-0,"top_p":1.5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		_ = c.Validate("fuzz.json", Limits{MemoryLimitMB: 1024})
		_, _ = c.Order()
		c.parallelWidth()
		out, err := c.JSON()
		if err != nil {
			t.Fatalf("a parsed container does not encode: %v", err)
		}
		if _, err := Parse(out, "again.json"); err != nil {
			t.Fatalf("a parsed container does not parse back: %v\n%s", err, out)
		}
	})
}

// FuzzParseInput checks input references never panic and that what parses
// has a name and either a reference or a literal.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{"input_data.prompt", "path=input_data.context", "parse.index", "size=2000", `x="a"`, "=", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseInput(s)
		if err != nil {
			return
		}
		if in.Name == "" || (in.Ref == "") == (in.Literal == nil) {
			t.Fatalf("ParseInput(%q) = %+v", s, in)
		}
	})
}

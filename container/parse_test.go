package container

import (
	"strings"
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

func TestParseReportsEveryUnknownField(t *testing.T) {
	data, err := codeContainer(t).JSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	s = strings.Replace(s, `"omex_version"`, `"colour": 1, "omex_version"`, 1)
	s = strings.Replace(s, `"memory_allocation": 64,`, `"memory_allocation": 64, "timeout": 5,`, 1)
	s = strings.Replace(s, `"priority"`, `"Priority2": "x", "priority"`, 1)
	_, err = Parse([]byte(s), "c.json")
	var p Problems
	if !asProblems(err, &p) || len(p) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	for i, want := range []string{
		`unknown field "colour" in the container`,
		`unknown field "timeout" in execution_graph.nodes[1] (known: id, type, inputs,`,
		`unknown field "Priority2" in resources`,
	} {
		if !strings.Contains(p[i].Error(), want) || p[i].File != "c.json" || p[i].Category != omexerr.Input {
			t.Errorf("problem %d: %v, want it to contain %q", i, p[i], want)
		}
	}
}

func asProblems(err error, p *Problems) bool {
	q, ok := err.(Problems)
	*p = q
	return ok
}

func TestParseErrorsNamePlace(t *testing.T) {
	cases := []struct {
		in, code, msg string
		off           int64
	}{
		{``, "container.syntax", "empty", 0},
		{`[1]`, "container.syntax", "must be a JSON object", 0},
		{`{"omex_version": "1.0",}`, "container.syntax", "invalid JSON", 24},
		{`{"omex_version": "1.0"`, "container.truncated", "ends early", 22},
		{`{"omex_version": "1.0"} {}`, "container.syntax", "after the container", 25},
		{`{"resources": {"max_memory_mb": "lots"}}`, "container.bad_type", "resources.max_memory_mb must be an integer, not a JSON string", 38},
		{`{"execution_graph": {"nodes": {}}}`, "container.bad_type", "execution_graph.nodes must be an array", 31},
		{`{"completion_policy": {"retry_on_fail": 1}}`, "container.bad_type", "must be true or false", 41},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.in), "x.json")
		e, ok := omexerr.As(err)
		if !ok || e.Code != tc.code || !strings.Contains(e.Msg, tc.msg) || e.File != "x.json" || e.Offset != tc.off {
			t.Errorf("Parse(%q): %v (offset %d), want %s containing %q at offset %d", tc.in, err, offsetOf(err), tc.code, tc.msg, tc.off)
		}
	}
}

func offsetOf(err error) int64 {
	if e, ok := omexerr.As(err); ok {
		return e.Offset
	}
	return -2
}

func TestParseRefusesHugeFile(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	if _, err := Parse(big, "big.json"); err == nil || !strings.Contains(err.Error(), "over 16 MB") {
		t.Fatalf("want a size error, got %v", err)
	}
}

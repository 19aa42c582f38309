package container

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The two values of input_data a node may read.
const (
	RefPrompt  = "input_data.prompt"
	RefContext = "input_data.context"
)

// Input is one parsed entry of a node's inputs: a named reference to a
// value (input_data or a dependency's output) or a named JSON literal.
type Input struct {
	Name    string          // the name the task sees the value under
	Ref     string          // "input_data.prompt", "input_data.context" or "NODE.OUTPUT"; empty for a literal
	Node    string          // for NODE.OUTPUT references
	Output  string          // for NODE.OUTPUT references
	Fields  []string        // for NODE.OUTPUT.FIELD...: the object fields to read inside the output
	Literal json.RawMessage // for name=<JSON literal>
}

// ParseInput parses one inputs entry: "ref", "name=ref" or
// "name=<JSON literal>". A reference is input_data.prompt,
// input_data.context, NODE.OUTPUT, or NODE.OUTPUT.FIELD... to read a field
// of an object output (read.result.content). A literal starts with a quote,
// brace, bracket, digit or minus sign. Without a name a reference is named
// after its last part (input_data.prompt is "prompt", parse.index is
// "index", read.result.content is "content").
func ParseInput(s string) (Input, error) {
	var in Input
	rest := s
	if name, value, ok := strings.Cut(s, "="); ok {
		if !isIdent(name) {
			return in, fmt.Errorf("input %q: the name before '=' must be a letter or underscore followed by letters, digits or underscores", s)
		}
		in.Name, rest = name, value
	}
	if rest == "" {
		return in, fmt.Errorf("input %q is empty", s)
	}
	if strings.ContainsRune(`"{[-0123456789`, rune(rest[0])) {
		if in.Name == "" {
			return in, fmt.Errorf("input %q: a literal needs a name (name=%s)", s, rest)
		}
		if !json.Valid([]byte(rest)) {
			return in, fmt.Errorf("input %q: %s is not valid JSON", s, rest)
		}
		in.Literal = json.RawMessage(rest)
		return in, nil
	}
	parts := strings.Split(rest, ".")
	ok := len(parts) >= 2 && isNodeID(parts[0])
	for _, p := range parts[1:] {
		ok = ok && isIdent(p)
	}
	if !ok {
		return in, fmt.Errorf("input %q: a reference is %s, %s or NODE.OUTPUT[.FIELD...]", s, RefPrompt, RefContext)
	}
	in.Ref = rest
	if parts[0] == "input_data" {
		if rest != RefPrompt && rest != RefContext {
			return in, fmt.Errorf("input %q: input_data has only prompt and context", s)
		}
	} else {
		in.Node, in.Output, in.Fields = parts[0], parts[1], parts[2:]
	}
	if in.Name == "" {
		in.Name = parts[len(parts)-1]
	}
	return in, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// isNodeID reports whether s is a valid node id: letters, digits, '_' and
// '-' (no dots, so NODE.OUTPUT is unambiguous).
func isNodeID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// LiteralInt reads an integer JSON literal (like 2000).
func LiteralInt(lit json.RawMessage) (int, bool) {
	var n int
	if err := json.Unmarshal(lit, &n); err != nil {
		return 0, false
	}
	return n, true
}

package engine

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/omex-dev/omex/container"
	"github.com/omex-dev/omex/omexerr"
)

// Value is one input of a task: its name and its JSON value.
type Value struct {
	Name string
	Data json.RawMessage
}

// Text is the value as text: a string's contents, a list of strings one per
// line, anything else as compact JSON.
func (v Value) Text() string {
	var s string
	if json.Unmarshal(v.Data, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(v.Data, &list) == nil {
		return strings.Join(list, "\n")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v.Data); err != nil {
		return string(v.Data)
	}
	return b.String()
}

// jsonString encodes s as a JSON string.
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// resolveInputs turns a node's inputs into values: input_data fields,
// literals, and dependencies' saved outputs.
func resolveInputs(c *container.Container, n *container.Node, rec *Record) ([]Value, error) {
	var vals []Value
	for _, s := range n.Inputs {
		in, err := container.ParseInput(s)
		if err != nil {
			return nil, omexerr.Inputf("engine.bad_input", "node %q: %v", n.ID, err)
		}
		v := Value{Name: in.Name}
		switch {
		case in.Literal != nil:
			v.Data = in.Literal
		case in.Ref == container.RefPrompt:
			v.Data = jsonString(c.InputData.Prompt)
		case in.Ref == container.RefContext:
			v.Data = jsonString(c.InputData.Context)
		default:
			src := rec.Node(in.Node)
			if src == nil || src.Outputs[in.Output] == nil {
				return nil, omexerr.Executionf("engine.missing_output", "node %q reads %s, which its dependency did not produce", n.ID, in.Ref)
			}
			v.Data = src.Outputs[in.Output]
			for _, f := range in.Fields {
				var obj map[string]json.RawMessage
				if json.Unmarshal(v.Data, &obj) != nil || obj[f] == nil {
					return nil, omexerr.Executionf("engine.missing_field", "node %q reads %s, but the output has no field %q there", n.ID, in.Ref, f)
				}
				v.Data = obj[f]
			}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

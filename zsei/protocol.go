// Package zsei is the client of ZSEI, the guidance service: it asks for
// guidance on a prompt (a framework, an execution blueprint, validation
// criteria), applies the blueprint to an execution plan, and reports state
// at checkpoints and completion. ZSEI is advisory: every failure is a
// ZseiError that callers answer by continuing without guidance (see Guide
// and Sync). The protocol is documented in docs/ZSEI.md.
package zsei

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The endpoints, relative to [zsei] host.
const (
	GuidancePath = "/v1/guidance"
	StatePath    = "/v1/state"
)

// GuidanceRequest is the body of POST /v1/guidance.
type GuidanceRequest struct {
	Prompt string `json:"prompt"`
	Domain string `json:"domain"` // e.g. "code_analysis", "summarization", "general"
	Client string `json:"client"` // "omexc/<version>"
}

// Guidance is ZSEI's answer: how to approach the task.
type Guidance struct {
	Framework          string    `json:"framework"`
	ExecutionBlueprint Blueprint `json:"execution_blueprint"`
	ValidationCriteria []string  `json:"validation_criteria"`
}

// Blueprint is a list of steps, each advising one plan node (by id) or
// every node of a type.
type Blueprint struct {
	Steps []Step `json:"steps"`
}

// Step is one piece of advice. Node names a plan node; when empty,
// NodeType selects every node of that type. After lists nodes the
// advised node(s) should wait for.
type Step struct {
	Node     string   `json:"node,omitempty"`
	NodeType string   `json:"node_type,omitempty"`
	Guidance string   `json:"guidance"`
	After    []string `json:"after,omitempty"`
}

// Checkpoint is the body of POST /v1/state.
type Checkpoint struct {
	ExecutionID    string   `json:"execution_id"`
	Event          string   `json:"event"`          // "checkpoint" or "completion"
	Node           string   `json:"node,omitempty"` // the node just finished, for a checkpoint
	Status         string   `json:"status"`         // e.g. "running", "succeeded", "failed"
	CompletedNodes []string `json:"completed_nodes"`
	Timestamp      string   `json:"timestamp"` // RFC 3339
}

// Bounds on an answer: ZSEI is remote and may answer anything.
const (
	maxResponseBytes = 1 << 20
	maxSteps         = 1024
	maxCriteria      = 1024
	maxText          = 64 << 10
)

// decodeGuidance parses and checks a guidance response body. Unknown
// fields are allowed (newer servers may add some); missing or mistyped
// required ones are not.
func decodeGuidance(body []byte) (*Guidance, error) {
	var raw struct {
		Framework          *string    `json:"framework"`
		ExecutionBlueprint *Blueprint `json:"execution_blueprint"`
		ValidationCriteria []string   `json:"validation_criteria"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("the answer is not the guidance JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("the answer has data after its JSON object")
	}
	switch {
	case raw.Framework == nil || *raw.Framework == "":
		return nil, fmt.Errorf("the answer has no framework")
	case len(*raw.Framework) > maxText:
		return nil, fmt.Errorf("the framework is over %d bytes", maxText)
	case raw.ExecutionBlueprint == nil:
		return nil, fmt.Errorf("the answer has no execution_blueprint")
	case len(raw.ExecutionBlueprint.Steps) > maxSteps:
		return nil, fmt.Errorf("the blueprint has %d steps, over %d", len(raw.ExecutionBlueprint.Steps), maxSteps)
	case len(raw.ValidationCriteria) > maxCriteria:
		return nil, fmt.Errorf("%d validation criteria, over %d", len(raw.ValidationCriteria), maxCriteria)
	}
	for i, s := range raw.ExecutionBlueprint.Steps {
		switch {
		case s.Guidance == "":
			return nil, fmt.Errorf("blueprint step %d has no guidance", i)
		case s.Node == "" && s.NodeType == "":
			return nil, fmt.Errorf("blueprint step %d names neither a node nor a node_type", i)
		case len(s.Guidance) > maxText || len(s.After) > maxSteps:
			return nil, fmt.Errorf("blueprint step %d is too large", i)
		}
	}
	g := &Guidance{Framework: *raw.Framework, ExecutionBlueprint: *raw.ExecutionBlueprint, ValidationCriteria: raw.ValidationCriteria}
	if g.ValidationCriteria == nil {
		g.ValidationCriteria = []string{}
	}
	return g, nil
}

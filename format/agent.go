package format

import "github.com/omex-dev/omex/omexerr"

// Agent is agents/default_agent.json: how a chat front end should drive the
// model by default.
type Agent struct {
	AgentID          string           `json:"agent_id"`
	Name             string           `json:"name"`
	Description      string           `json:"description"`
	Capabilities     []string         `json:"capabilities"`
	Tools            []Tool           `json:"tools"`
	MemoryManagement MemoryManagement `json:"memory_management"`
	ResponseFormat   ResponseFormat   `json:"response_format"`
	SystemPrompt     string           `json:"system_prompt"`
}

// Tool is a tool the agent may call.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// MemoryManagement says how the conversation is kept within the context:
// Strategy "sliding_window" drops the oldest turns to keep the last
// ContextWindowSize tokens; "truncate" stops at the limit.
type MemoryManagement struct {
	Strategy          string `json:"strategy"`
	ContextWindowSize int    `json:"context_window_size"`
}

// ResponseFormat is the form of the agent's answers: Type "text" or "json".
type ResponseFormat struct {
	Type string `json:"type"`
}

// DefaultAgent is the agent a package gets when the importer sets none: plain
// text generation over a sliding window of contextWindow tokens.
func DefaultAgent(contextWindow int) Agent {
	return Agent{
		AgentID:          "default",
		Name:             "Default assistant",
		Description:      "Generates a plain-text continuation of the conversation.",
		Capabilities:     []string{"text_generation"},
		Tools:            []Tool{},
		MemoryManagement: MemoryManagement{Strategy: "sliding_window", ContextWindowSize: contextWindow},
		ResponseFormat:   ResponseFormat{Type: "text"},
		SystemPrompt:     "",
	}
}

// validate checks the fields a front end depends on.
func (a *Agent) validate() *omexerr.Error {
	switch {
	case a.AgentID == "":
		return omexerr.Modelf("model.bad_agent", "agent_id is missing")
	case a.MemoryManagement.Strategy != "sliding_window" && a.MemoryManagement.Strategy != "truncate":
		return omexerr.Modelf("model.bad_agent", "unknown memory strategy %q (want sliding_window or truncate)", a.MemoryManagement.Strategy)
	case a.MemoryManagement.ContextWindowSize <= 0:
		return omexerr.Modelf("model.bad_agent", "context_window_size %d must be positive", a.MemoryManagement.ContextWindowSize)
	case a.ResponseFormat.Type != "text" && a.ResponseFormat.Type != "json":
		return omexerr.Modelf("model.bad_agent", "unknown response format %q (want text or json)", a.ResponseFormat.Type)
	}
	return nil
}

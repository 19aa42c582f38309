package agent

import (
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Roles of the messages in a history. The system prompt is not a message:
// it comes from the agent and is always first.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// roleLabels are the speaker labels of the prompt text.
var roleLabels = map[string]string{
	RoleUser:      "User",
	RoleAssistant: "Assistant",
	RoleTool:      "Tool",
}

// answerCue ends every prompt: the model continues as the assistant.
const answerCue = "Assistant:"

// Message is one turn of a conversation.
type Message struct {
	Role    string
	Content string
}

// History is an agent's conversation, kept within its context window by
// its memory strategy. The window is measured in tokens of the prompt text
// (see Prompt): the system prompt, each message as rendered, and the final
// answer cue, each counted on its own by the count function. Counting the
// parts separately can differ from counting the joined text by a token or
// so at each boundary; the boundaries are newlines, where tokenizers
// rarely merge.
type History struct {
	strategy string
	window   int
	count    func(string) int
	system   string // rendered system prompt, "" when none
	fixed    int    // tokens of the system prompt and the answer cue
	msgs     []Message
	tokens   []int // tokens of each rendered message
	total    int   // fixed + sum(tokens)
}

// NewHistory starts an empty history for the agent. count returns the
// number of tokens of a text, normally the length of the model
// tokenizer's Encode without BOS. The system prompt and the answer cue
// alone must fit the window.
func NewHistory(a *Agent, count func(string) int) (*History, error) {
	if count == nil {
		return nil, omexerr.Inputf("input.bad_history", "a history needs a token count function")
	}
	h := &History{
		strategy: a.MemoryManagement.Strategy,
		window:   a.MemoryManagement.ContextWindowSize,
		count:    count,
	}
	if h.strategy != StrategySlidingWindow && h.strategy != StrategyTruncate {
		return nil, badAgent(a.File, "memory_management.strategy", "unknown strategy %q (want %s or %s)", h.strategy, StrategySlidingWindow, StrategyTruncate)
	}
	if a.SystemPrompt != "" {
		h.system = a.SystemPrompt + "\n\n"
	}
	h.fixed = count(h.system) + count(answerCue)
	h.total = h.fixed
	if h.fixed > h.window {
		return nil, omexerr.Resourcef("resource.context_window", "the system prompt takes %d tokens, over the context window of %d", h.fixed, h.window).WithFile(a.File)
	}
	return h, nil
}

// Add appends a message. Under sliding_window the oldest messages are
// dropped until the history fits; a message that cannot fit even alone
// is refused. Under truncate a message that would overflow the window is
// refused. A refused message leaves the history as it was; the error is a
// ResourceError saying how many tokens were asked and available.
func (h *History) Add(role, content string) error {
	label, ok := roleLabels[role]
	if !ok {
		return omexerr.Inputf("input.bad_role", "unknown message role %q (want user, assistant or tool)", role)
	}
	n := h.count(label + ": " + content + "\n")
	room := h.window - h.fixed
	if n > room {
		return omexerr.Resourcef("resource.context_window", "a %s message of %d tokens does not fit the context window of %d tokens (%d are free besides the system prompt)", role, n, h.window, room)
	}
	if h.strategy == StrategyTruncate && h.total+n > h.window {
		return omexerr.Resourcef("resource.context_window", "the history is full: %d of %d tokens used, the %s message needs %d (strategy truncate keeps every message)", h.total, h.window, role, n)
	}
	// Drop the oldest messages until the new one fits; n <= room makes
	// this stop at the latest when every message is gone.
	drop := 0
	for h.total+n > h.window {
		h.total -= h.tokens[drop]
		drop++
	}
	h.msgs = append(h.msgs[drop:], Message{Role: role, Content: content})
	h.tokens = append(h.tokens[drop:], n)
	h.total += n
	return nil
}

// Messages returns the messages kept, oldest first.
func (h *History) Messages() []Message {
	return append([]Message(nil), h.msgs...)
}

// Tokens is the token count of the prompt as Prompt renders it.
func (h *History) Tokens() int { return h.total }

// Prompt is the text given to the model: the system prompt, a blank line,
// one "Role: content" line per message kept, and "Assistant:" for the
// model to continue.
func (h *History) Prompt() string {
	var b strings.Builder
	b.WriteString(h.system)
	for _, m := range h.msgs {
		b.WriteString(roleLabels[m.Role])
		b.WriteString(": ")
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	b.WriteString(answerCue)
	return b.String()
}

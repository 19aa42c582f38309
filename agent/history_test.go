package agent

import (
	"strings"
	"testing"

	"github.com/omex-dev/omex/format"
	"github.com/omex-dev/omex/omexerr"
)

// words counts whitespace-separated words: a stand-in tokenizer whose
// counts are easy to check by hand.
func words(s string) int { return len(strings.Fields(s)) }

// testAgent is an agent with a window of n "tokens" and a one-word system
// prompt.
func testAgent(strategy string, n int) *Agent {
	return &Agent{Agent: format.Agent{
		AgentID:          "t",
		SystemPrompt:     "Be brief.",
		MemoryManagement: format.MemoryManagement{Strategy: strategy, ContextWindowSize: n},
		ResponseFormat:   format.ResponseFormat{Type: "text"},
	}, File: "agents/t.json"}
}

// contents lists the kept messages' contents.
func contents(h *History) string {
	var s []string
	for _, m := range h.Messages() {
		s = append(s, m.Content)
	}
	return strings.Join(s, "|")
}

func TestSlidingWindowKeepsNewestWithinWindow(t *testing.T) {
	// System prompt "Be brief.\n\n" = 2 words, cue "Assistant:" = 1: 3 fixed.
	// Each "User: a b" message is 3 words.
	h, err := NewHistory(testAgent(StrategySlidingWindow, 12), words)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		msg, kept string
		tokens    int
	}{
		{"a b", "a b", 6},
		{"c d", "a b|c d", 9},
		{"e f", "a b|c d|e f", 12},
		{"g h", "c d|e f|g h", 12},                 // the oldest goes
		{"i j k l m", "g h|i j k l m", 12},         // 6 words: two old messages go
		{"n o p q r s t u", "n o p q r s t u", 12}, // 9 words: alone it just fits
	}
	for _, s := range steps {
		if err := h.Add(RoleUser, s.msg); err != nil {
			t.Fatalf("add %q: %v", s.msg, err)
		}
		if got := contents(h); got != s.kept || h.Tokens() != s.tokens {
			t.Errorf("after %q: kept %q (%d tokens), want %q (%d)", s.msg, got, h.Tokens(), s.kept, s.tokens)
		}
		if n := words(h.Prompt()); n != h.Tokens() {
			t.Errorf("after %q: the prompt has %d words, the history counts %d", s.msg, n, h.Tokens())
		}
		if !strings.HasPrefix(h.Prompt(), "Be brief.\n\n") {
			t.Errorf("the system prompt is gone: %q", h.Prompt())
		}
	}
	// Too big even alone: refused, history unchanged.
	err = h.Add(RoleUser, "1 2 3 4 5 6 7 8 9")
	if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Resource {
		t.Fatalf("got %v, want a ResourceError", err)
	}
	if contents(h) != "n o p q r s t u" {
		t.Errorf("a refused message changed the history: %q", contents(h))
	}
}

func TestTruncateRefusesPastWindow(t *testing.T) {
	h, err := NewHistory(testAgent(StrategyTruncate, 10), words)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"a b", "c d"} {
		if err := h.Add(RoleUser, m); err != nil {
			t.Fatal(err)
		}
	}
	err = h.Add(RoleAssistant, "e f") // 3 + 6 + 3 = 12 > 10
	if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Resource || !strings.Contains(err.Error(), "full") {
		t.Fatalf("got %v, want a ResourceError saying the history is full", err)
	}
	if contents(h) != "a b|c d" || h.Tokens() != 9 {
		t.Errorf("kept %q (%d tokens)", contents(h), h.Tokens())
	}
	if err := h.Add(RoleTool, ""); err != nil { // "Tool: " is 1 word: fits exactly
		t.Errorf("a message that fits exactly: %v", err)
	}
}

func TestHistoryPromptText(t *testing.T) {
	h, err := NewHistory(testAgent(StrategySlidingWindow, 100), words)
	if err != nil {
		t.Fatal(err)
	}
	h.Add(RoleUser, "What is 2+2?")
	h.Add(RoleTool, `{"stdout": "4\n"}`)
	h.Add(RoleAssistant, "4")
	want := "Be brief.\n\nUser: What is 2+2?\nTool: {\"stdout\": \"4\\n\"}\nAssistant: 4\nAssistant:"
	if got := h.Prompt(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestHistoryErrors(t *testing.T) {
	if _, err := NewHistory(testAgent(StrategySlidingWindow, 2), words); omexerr.CategoryOf(err) != omexerr.Resource {
		t.Errorf("a system prompt over the window: got %v", err)
	}
	if _, err := NewHistory(testAgent("full", 100), words); omexerr.CategoryOf(err) != omexerr.Model {
		t.Errorf("an unknown strategy: got %v", err)
	}
	if _, err := NewHistory(testAgent(StrategySlidingWindow, 100), nil); err == nil {
		t.Error("no count function: no error")
	}
	h, _ := NewHistory(testAgent(StrategySlidingWindow, 100), words)
	if err := h.Add("system", "x"); omexerr.CategoryOf(err) != omexerr.Input {
		t.Errorf("an unknown role: got %v", err)
	}
	a := testAgent(StrategySlidingWindow, 5)
	a.SystemPrompt = ""
	h, err := NewHistory(a, words)
	if err != nil {
		t.Fatal(err)
	}
	if h.Add(RoleUser, "a b c") != nil || h.Prompt() != "User: a b c\nAssistant:" {
		t.Errorf("without a system prompt: %q", h.Prompt())
	}
}

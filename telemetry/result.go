package telemetry

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// Format is how `omexc run` writes its result.
type Format string

// The result formats. Text streams the text as it is produced; JSON
// streams one NDJSON "chunk" event per piece of text, then a "result"
// event; Markdown is written whole at the end (a code fence must be chosen
// after the text is known).
const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatText, FormatJSON, FormatMarkdown:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	}
	return "", omexerr.Inputf("input.bad_flag", "unknown format %q: allowed text, json, markdown", s).WithFlag("--format")
}

// Final is what a run produced, written when it ends.
type Final struct {
	Prompt          string      `json:"prompt"`
	Output          string      `json:"output"` // everything streamed: the prompt's echo (unless --no-echo) and the generated text
	Text            string      `json:"text"`   // the generated text alone
	StopReason      string      `json:"stop_reason"`
	PromptTokens    int         `json:"prompt_tokens"`
	GeneratedTokens int         `json:"generated_tokens"`
	Metrics         *RunMetrics `json:"metrics,omitempty"`
}

// Stream writes a run's result in a Format as it is produced: pass it to
// the generation loop as its io.Writer, then call Finish.
type Stream struct {
	f   Format
	w   io.Writer
	out strings.Builder // everything written, for Final.Output and Markdown
}

// NewStream returns a Stream writing format f to w.
func NewStream(f Format, w io.Writer) *Stream { return &Stream{f: f, w: w} }

// chunkEvent is one NDJSON line of streamed text.
type chunkEvent struct {
	Event string `json:"event"` // "chunk"
	Text  string `json:"text"`
}

// resultEvent is the final NDJSON line.
type resultEvent struct {
	Event string `json:"event"` // "result"
	Final
}

// Write passes a piece of text on in the stream's format.
func (s *Stream) Write(p []byte) (int, error) {
	s.out.Write(p)
	switch s.f {
	case FormatJSON:
		if err := writeJSONLine(s.w, chunkEvent{Event: "chunk", Text: string(p)}); err != nil {
			return 0, err
		}
	case FormatMarkdown:
		// Held until Finish.
	default:
		if _, err := s.w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Output is everything written so far.
func (s *Stream) Output() string { return s.out.String() }

// Finish writes the end of the result: a newline after text, the result
// event in JSON, the whole document in Markdown. Final.Output is filled
// from what was streamed.
func (s *Stream) Finish(r Final) error {
	r.Output = s.out.String()
	switch s.f {
	case FormatJSON:
		return writeJSONLine(s.w, resultEvent{Event: "result", Final: r})
	case FormatMarkdown:
		_, err := io.WriteString(s.w, markdown(r))
		return err
	}
	_, err := io.WriteString(s.w, "\n")
	return err
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// markdown renders a result as a Markdown document. Text goes in a code
// fence longer than any run of backticks inside it, so nothing in the
// model's output can close the fence early.
func markdown(r Final) string {
	var b strings.Builder
	fence := strings.Repeat("`", max(3, longestRun(r.Output, '`')+1))
	b.WriteString("# omexc run\n\n## Output\n\n")
	fmt.Fprintf(&b, "%stext\n%s\n%s\n\n", fence, r.Output, fence)
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| prompt tokens | %d |\n| generated tokens | %d |\n| stop reason | %s |\n", r.PromptTokens, r.GeneratedTokens, r.StopReason)
	if m := r.Metrics; m != nil {
		fmt.Fprintf(&b, "| load | %.3f ms |\n| prompt | %.3f ms (%.1f tokens/s) |\n| time to first token | %.3f ms |\n| generation | %.3f ms (%.1f tokens/s) |\n",
			m.LoadMS, m.PromptMS, m.PromptTokensPerSecond, m.TimeToFirstTokenMS, m.GenerateMS, m.TokensPerSecond)
		fmt.Fprintf(&b, "| peak RSS | %.1f MiB |\n| threads | %d |\n| cache | %s |\n", float64(m.PeakRSSBytes)/(1<<20), m.Threads, m.Cache)
		if len(m.Insights) > 0 {
			b.WriteString("\n## Insights\n\n")
			for _, in := range m.Insights {
				fmt.Fprintf(&b, "- %s\n", in)
			}
		}
	}
	return b.String()
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

package telemetry

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func stream(t *testing.T, f Format, pieces ...string) (string, Final) {
	t.Helper()
	var out strings.Builder
	s := NewStream(f, &out)
	for _, p := range pieces {
		if _, err := io.WriteString(s, p); err != nil {
			t.Fatal(err)
		}
	}
	fin := Final{Prompt: "Once", Text: strings.Join(pieces[1:], ""), StopReason: "eos", PromptTokens: 2, GeneratedTokens: 3,
		Metrics: &RunMetrics{TokensPerSecond: 12.5, Cache: "miss", Insights: []string{"an insight"}}}
	if err := s.Finish(fin); err != nil {
		t.Fatal(err)
	}
	return out.String(), fin
}

func TestTextStreamsAsIs(t *testing.T) {
	got, _ := stream(t, FormatText, "Once", " upon", " a")
	if got != "Once upon a\n" {
		t.Fatalf("%q", got)
	}
}

func TestJSONStreamsEventsThenResult(t *testing.T) {
	got, _ := stream(t, FormatJSON, "Once", " up\"on", " a\n")
	sc := bufio.NewScanner(strings.NewReader(got))
	var chunks []string
	var final map[string]any
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		switch ev["event"] {
		case "chunk":
			if final != nil {
				t.Fatal("chunk after the result")
			}
			chunks = append(chunks, ev["text"].(string))
		case "result":
			final = ev
		default:
			t.Fatalf("event %v", ev)
		}
	}
	if strings.Join(chunks, "") != "Once up\"on a\n" || len(chunks) != 3 {
		t.Fatalf("chunks %q", chunks)
	}
	if final == nil || final["output"] != "Once up\"on a\n" || final["text"] != " up\"on a\n" || final["stop_reason"] != "eos" ||
		final["metrics"].(map[string]any)["tokens_per_second"] != 12.5 {
		t.Fatalf("result %v", final)
	}
}

func TestMarkdownFenceOutlastsBackticks(t *testing.T) {
	got, _ := stream(t, FormatMarkdown, "Once", " ```code```", " ````")
	if !strings.Contains(got, "`````text\nOnce ```code``` ````\n`````\n") {
		t.Fatalf("fence:\n%s", got)
	}
	for _, want := range []string{"| generated tokens | 3 |", "| stop reason | eos |", "(12.5 tokens/s)", "## Insights\n\n- an insight"} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"text": FormatText, "JSON": FormatJSON, "md": FormatMarkdown, "markdown": FormatMarkdown} {
		if f, err := ParseFormat(in); err != nil || f != want {
			t.Errorf("%s: %v %v", in, f, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Fatalf("yaml: %v", err)
	}
}

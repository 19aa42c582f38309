package zsei

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/omexerr"
)

const token = "agent-tok-7f3a9c"

const goodGuidance = `{
  "framework": "static-analysis-first",
  "execution_blueprint": {"steps": [
    {"node": "summarize", "guidance": "List every exported function with its signature.", "after": ["analyze"]},
    {"node_type": "local_cpu", "guidance": "Skip _test.go files."}
  ]},
  "validation_criteria": ["every exported function is named"],
  "extra_field_from_a_newer_server": true
}`

// server records what it received and answers with handler.
type server struct {
	mu       sync.Mutex
	auth     []string
	bodies   []map[string]any
	paths    []string
	srv      *httptest.Server
	response func(w http.ResponseWriter, r *http.Request)
}

func newServer(t *testing.T, response func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{response: response}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.bodies = append(s.bodies, body)
		s.paths = append(s.paths, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		s.response(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// client makes a client for url whose debug log goes to the returned buffer.
func client(t *testing.T, url string, timeout time.Duration) (*Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(Options{Host: url, Token: token, Timeout: timeout, Logger: l, UserAgent: "omexc/test"})
	if err != nil {
		t.Fatal(err)
	}
	return c, &logs
}

func plan() *NodeList {
	return &NodeList{
		{ID: "parse", Type: "local_cpu"},
		{ID: "analyze", Type: "local_cpu", Dependencies: []string{"parse"}},
		{ID: "summarize", Type: "model_inference", Dependencies: []string{"parse"}, Guidance: "Be brief."},
	}
}

func TestGuidanceAppliedWhenZseiAnswers(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, goodGuidance)
	})
	c, logs := client(t, s.srv.URL+"/", time.Second)
	g, note := c.Guide(context.Background(), "Summarize the functions in this Go package", "code_analysis")
	if g == nil {
		t.Fatalf("no guidance: %s", note)
	}
	if !strings.Contains(note, `framework "static-analysis-first", 2 blueprint steps, 1 validation criteria`) {
		t.Errorf("note %q", note)
	}
	if s.paths[0] != "POST /v1/guidance" || s.auth[0] != "Bearer "+token {
		t.Fatalf("request %s auth %q", s.paths[0], s.auth[0])
	}
	if s.bodies[0]["prompt"] != "Summarize the functions in this Go package" || s.bodies[0]["domain"] != "code_analysis" || s.bodies[0]["client"] != "omexc/test" {
		t.Fatalf("request body %v", s.bodies[0])
	}
	p := plan()
	rep := ApplyBlueprint(p, g.ExecutionBlueprint)
	n := *p
	if n[2].Guidance != "Be brief.\nList every exported function with its signature." {
		t.Errorf("summarize guidance %q", n[2].Guidance)
	}
	if n[0].Guidance != "Skip _test.go files." || n[1].Guidance != "Skip _test.go files." {
		t.Errorf("type-matched guidance %q %q", n[0].Guidance, n[1].Guidance)
	}
	if strings.Join(n[2].Dependencies, ",") != "parse,analyze" {
		t.Errorf("summarize deps %v", n[2].Dependencies)
	}
	if len(rep.Skipped) != 0 || len(rep.Applied) != 4 {
		t.Errorf("report %+v", rep)
	}
	if strings.Contains(logs.String(), token) {
		t.Fatalf("token in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "zsei request") {
		t.Fatalf("request not logged at debug:\n%s", logs.String())
	}
}

func TestSyncState(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c, _ := client(t, s.srv.URL, time.Second)
	note := c.Sync(context.Background(), Checkpoint{ExecutionID: "run-1", Event: "checkpoint", Node: "parse", Status: "running", CompletedNodes: []string{"parse"}})
	if note != "ZSEI checkpoint synced" {
		t.Fatalf("note %q", note)
	}
	b := s.bodies[0]
	if s.paths[0] != "POST /v1/state" || b["execution_id"] != "run-1" || b["event"] != "checkpoint" || b["node"] != "parse" || b["timestamp"] == "" {
		t.Fatalf("state request %s %v", s.paths[0], b)
	}
	if _, err := time.Parse(time.RFC3339Nano, b["timestamp"].(string)); err != nil {
		t.Fatalf("timestamp %v", b["timestamp"])
	}
}

// TestRunContinuesWhenZseiFails: every failure is a ZseiError, Guide turns
// it into a note naming the reason, and no failure logs the token.
func TestRunContinuesWhenZseiFails(t *testing.T) {
	// A port with nothing listening: bind one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	answer := func(status int, body string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, strings.ReplaceAll(body, "AUTH", r.Header.Get("Authorization")))
		}
	}
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		io.WriteString(w, goodGuidance)
	})
	cases := []struct {
		name, url, code, note string
	}{
		{"down", down, "zsei.unreachable", "cannot reach"},
		{"timeout", slow.srv.URL, "zsei.timeout", "within 150ms (zsei.timeout_ms)"},
		{"malformed", newServer(t, answer(200, `{"framework": "x", "execution_blueprint": {"steps": [`)).srv.URL, "zsei.bad_response", "not the guidance JSON"},
		{"not json", newServer(t, answer(200, `<html>hello</html>`)).srv.URL, "zsei.bad_response", "not the guidance JSON"},
		{"wrong schema", newServer(t, answer(200, `{"framework": 7, "execution_blueprint": {}}`)).srv.URL, "zsei.bad_response", "not the guidance JSON"},
		{"missing blueprint", newServer(t, answer(200, `{"framework": "f"}`)).srv.URL, "zsei.bad_response", "no execution_blueprint"},
		{"bad step", newServer(t, answer(200, `{"framework": "f", "execution_blueprint": {"steps": [{"guidance": "g"}]}}`)).srv.URL, "zsei.bad_response", "names neither a node nor a node_type"},
		{"5xx echoing the token", newServer(t, answer(503, `overloaded; you sent AUTH`)).srv.URL, "zsei.status", "503 Service Unavailable: overloaded; you sent Bearer <redacted>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := client(t, tc.url, 150*time.Millisecond)
			start := time.Now()
			_, err := c.QueryGuidance(context.Background(), "p", "general")
			if e, ok := omexerr.As(err); !ok || e.Category != omexerr.Zsei || e.Code != tc.code {
				t.Fatalf("error %v, want ZseiError %s", err, tc.code)
			}
			g, note := c.Guide(context.Background(), "p", "general")
			if g != nil || !strings.HasPrefix(note, "continuing without ZSEI guidance: ") || !strings.Contains(note, tc.note) {
				t.Fatalf("guide %v note %q, want it to contain %q", g, note, tc.note)
			}
			if time.Since(start) > 1500*time.Millisecond {
				t.Fatalf("took %v: the timeout was not applied", time.Since(start))
			}
			if strings.Contains(logs.String()+note, token) {
				t.Fatalf("token leaked:\n%s\n%s", logs.String(), note)
			}
			if !strings.Contains(c.Sync(context.Background(), Checkpoint{Event: "completion"}), "ZSEI completion not synced, continuing") && tc.code != "zsei.bad_response" {
				t.Fatalf("sync did not report the failure")
			}
		})
	}
}

func TestDisabledAndConfig(t *testing.T) {
	var c *Client
	if g, note := c.Guide(context.Background(), "p", "d"); g != nil || note != "no ZSEI guidance: zsei.enabled is false" {
		t.Fatalf("nil client: %v %q", g, note)
	}
	if _, err := c.QueryGuidance(context.Background(), "p", "d"); omexerr.CategoryOf(err) != omexerr.Zsei {
		t.Fatalf("nil client error %v", err)
	}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, goodGuidance) })
	z := config.Default().Zsei
	z.Host = s.srv.URL
	off, err := FromConfig(z, nil, "omexc/test")
	if err != nil || off != nil {
		t.Fatalf("zsei.enabled=false gave a client %v %v", off, err)
	}
	z.Enabled, z.Token, z.TimeoutMS = true, "cfg-token", 1234
	on, err := FromConfig(z, nil, "omexc/test")
	if err != nil || on == nil || on.timeout != 1234*time.Millisecond {
		t.Fatalf("config client %+v %v", on, err)
	}
	if g, _ := on.Guide(context.Background(), "p", "d"); g == nil || s.auth[0] != "Bearer cfg-token" {
		t.Fatalf("config client guidance %v auth %v", g, s.auth)
	}
	if _, err := New(Options{Host: "ftp://x"}); err == nil {
		t.Fatal("ftp host accepted")
	}
	if _, err := New(Options{Host: "http://u:pw@x"}); err == nil || strings.Contains(err.Error(), "pw") {
		t.Fatalf("credentials in host: %v", err)
	}
}

func TestApplyBlueprintNeverBreaksThePlan(t *testing.T) {
	p := plan()
	rep := ApplyBlueprint(p, Blueprint{Steps: []Step{
		{Node: "ghost", Guidance: "x"},
		{NodeType: "tool", Guidance: "x"},
		{Node: "parse", Guidance: "first", After: []string{"summarize"}}, // summarize -> parse already: cycle
		{Node: "parse", Guidance: "again", After: []string{"parse", "nowhere"}},
		{Node: "analyze", Guidance: "y", After: []string{"parse"}}, // already there
	}})
	n := *p
	if len(n[0].Dependencies) != 0 || strings.Join(n[1].Dependencies, ",") != "parse" {
		t.Fatalf("dependencies changed: %+v", n)
	}
	if n[0].Guidance != "first\nagain" {
		t.Fatalf("parse guidance %q", n[0].Guidance)
	}
	want := []string{`no node "ghost"`, `no node of type "tool"`, "would make a cycle", `"parse" waiting for "parse" would make a cycle`, `unknown node "nowhere"`}
	all := strings.Join(rep.Skipped, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("skipped lacks %q:\n%s", w, all)
		}
	}
}

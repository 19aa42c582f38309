package zsei

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/omexerr"
)

// Client talks to one ZSEI server. A nil *Client is valid and means ZSEI
// is off: Guide and Sync then say so and do nothing.
type Client struct {
	base    *url.URL
	token   string
	timeout time.Duration
	log     *slog.Logger
	http    *http.Client
	agent   string
}

// Options configure a Client.
type Options struct {
	Host      string        // base URL, http:// or https://
	Token     string        // agent token, sent as "Authorization: Bearer"; never logged
	Timeout   time.Duration // limit of each request; 0 means 2s
	Logger    *slog.Logger  // nil: slog.Default()
	UserAgent string        // e.g. "omexc/0.1.0"; also sent as the request's client field
}

// New makes a client for the server at o.Host.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.Host, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, omexerr.Configf("config.bad_value", "zsei.host %q is not allowed: an http:// or https:// URL with a host and no user", redactedHost(o.Host))
	}
	c := &Client{base: u, token: o.Token, timeout: o.Timeout, log: o.Logger, http: &http.Client{}, agent: o.UserAgent}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.agent == "" {
		c.agent = "omex"
	}
	return c, nil
}

// FromConfig makes the client [zsei] describes, or returns nil when
// zsei.enabled is false.
func FromConfig(z config.Zsei, logger *slog.Logger, userAgent string) (*Client, error) {
	if !z.Enabled {
		return nil, nil
	}
	return New(Options{Host: z.Host, Token: z.Token, Timeout: z.Timeout(), Logger: logger, UserAgent: userAgent})
}

func redactedHost(h string) string {
	if u, err := url.Parse(h); err == nil && u.User != nil {
		return u.Redacted()
	}
	return h
}

// QueryGuidance asks ZSEI how to approach prompt in domain. Every failure
// (unreachable, timeout, non-2xx status, a body that is not the guidance
// JSON) is a ZseiError.
func (c *Client) QueryGuidance(ctx context.Context, prompt, domain string) (*Guidance, error) {
	if c == nil {
		return nil, omexerr.New(omexerr.Zsei, "zsei.disabled", "ZSEI is off (zsei.enabled = false)")
	}
	body, err := c.post(ctx, GuidancePath, GuidanceRequest{Prompt: prompt, Domain: domain, Client: c.agent})
	if err != nil {
		return nil, err
	}
	g, derr := decodeGuidance(body)
	if derr != nil {
		return nil, omexerr.New(omexerr.Zsei, "zsei.bad_response", "%s", c.redact(derr.Error()))
	}
	return g, nil
}

// SyncState reports execution state to ZSEI at a checkpoint or at
// completion. Failures are ZseiErrors.
func (c *Client) SyncState(ctx context.Context, cp Checkpoint) error {
	if c == nil {
		return omexerr.New(omexerr.Zsei, "zsei.disabled", "ZSEI is off (zsei.enabled = false)")
	}
	if cp.Timestamp == "" {
		cp.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if cp.CompletedNodes == nil {
		cp.CompletedNodes = []string{}
	}
	_, err := c.post(ctx, StatePath, cp)
	return err
}

// Guide is QueryGuidance for callers that must not fail: it returns the
// guidance, or nil and a note saying why the run continues without it.
// The note is meant for the run record.
func (c *Client) Guide(ctx context.Context, prompt, domain string) (*Guidance, string) {
	if c == nil {
		return nil, "no ZSEI guidance: zsei.enabled is false"
	}
	g, err := c.QueryGuidance(ctx, prompt, domain)
	if err != nil {
		return nil, "continuing without ZSEI guidance: " + err.Error()
	}
	return g, fmt.Sprintf("ZSEI guidance applied: framework %q, %d blueprint steps, %d validation criteria",
		g.Framework, len(g.ExecutionBlueprint.Steps), len(g.ValidationCriteria))
}

// Sync is SyncState for callers that must not fail: it returns a note for
// the run record.
func (c *Client) Sync(ctx context.Context, cp Checkpoint) string {
	if c == nil {
		return "no ZSEI sync: zsei.enabled is false"
	}
	if err := c.SyncState(ctx, cp); err != nil {
		return "ZSEI " + cp.Event + " not synced, continuing: " + err.Error()
	}
	return "ZSEI " + cp.Event + " synced"
}

// post sends v as JSON and returns the 2xx response body.
func (c *Client) post(ctx context.Context, path string, v any) ([]byte, error) {
	zerr := func(code, format string, args ...any) *omexerr.Error {
		return omexerr.New(omexerr.Zsei, code, format, args...)
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, zerr("zsei.request", "cannot encode the request").Wrap(err)
	}
	endpoint := c.base.JoinPath(path).String()
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, zerr("zsei.request", "cannot build the request to %s", endpoint).Wrap(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	elapsed := time.Since(start)
	if err != nil {
		var e *omexerr.Error
		switch {
		case ctx.Err() != nil:
			e = zerr("zsei.cancelled", "request to %s cancelled", endpoint)
		case errors.Is(err, context.DeadlineExceeded):
			e = zerr("zsei.timeout", "no answer from %s within %v (zsei.timeout_ms)", endpoint, c.timeout)
		default:
			e = zerr("zsei.unreachable", "cannot reach %s: %s", endpoint, c.redact(rootCause(err)))
		}
		c.log.Warn("zsei request failed", "url", endpoint, "duration_ms", elapsed.Milliseconds(), "error", e.Error())
		return nil, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	c.log.Debug("zsei request", "url", endpoint, "status", resp.StatusCode, "duration_ms", time.Since(start).Milliseconds(), "bytes", len(body))
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return nil, zerr("zsei.timeout", "the answer from %s did not finish within %v (zsei.timeout_ms)", endpoint, c.timeout)
	case err != nil:
		return nil, zerr("zsei.unreachable", "reading the answer from %s: %s", endpoint, c.redact(err.Error()))
	case len(body) > maxResponseBytes:
		return nil, zerr("zsei.bad_response", "the answer from %s is over %d bytes", endpoint, maxResponseBytes)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		e := zerr("zsei.status", "%s answered %s: %s", endpoint, resp.Status, snippet(c.redact(string(body))))
		c.log.Warn("zsei request failed", "url", endpoint, "status", resp.StatusCode, "error", e.Error())
		return nil, e
	}
	return body, nil
}

// rootCause is the innermost error's text: url.Error repeats the method
// and URL, which the ZseiError already names.
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// snippet is the start of a body, for an error message.
func snippet(body string) string {
	s := strings.TrimSpace(body)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// redact removes the token from text that came from the server (a body
// may echo the request's headers back).
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "<redacted>")
}

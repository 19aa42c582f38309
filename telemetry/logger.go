// Package telemetry is what OMEX tells about a run: structured logs per
// [logging], run metrics (tokens/s, time to first token, peak RSS, cache
// hits), performance insights derived from them, and the result formats
// (text, JSON, Markdown) of `omexc run`.
package telemetry

import (
	"io"
	"log/slog"
	"strings"

	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/omexerr"
)

// nopCloser closes nothing: the logger writes to standard error.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// NewLogger builds the slog logger [logging] describes: level, text or JSON
// records, and either stderr or a size-rotated file. Close the returned
// closer when the program ends.
func NewLogger(cfg config.Logging, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, nil, omexerr.Configf("config.bad_value", "logging.level %q is not allowed: one of debug, info, warn, error", cfg.Level)
	}
	var out io.Writer = stderr
	var closer io.Closer = nopCloser{}
	if cfg.File != "" {
		w, err := OpenRotating(cfg.File, cfg.MaxSizeBytes(), cfg.MaxBackups)
		if err != nil {
			return nil, nil, omexerr.Configf("config.log_file", "cannot open the log file (logging.file)").WithFile(cfg.File).Wrap(err)
		}
		out, closer = w, w
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	var h slog.Handler
	switch cfg.Format {
	case "json":
		h = slog.NewJSONHandler(out, opts)
	case "text":
		h = slog.NewTextHandler(out, opts)
	default:
		closer.Close()
		return nil, nil, omexerr.Configf("config.bad_value", "logging.format %q is not allowed: one of text, json", cfg.Format)
	}
	return slog.New(h), closer, nil
}

// redact blanks attributes whose name says they hold a credential, so a
// careless log call cannot write a token to disk.
func redact(_ []string, a slog.Attr) slog.Attr {
	switch strings.ToLower(a.Key) {
	case "token", "authorization", "password", "secret":
		return slog.String(a.Key, "<redacted>")
	}
	return a
}

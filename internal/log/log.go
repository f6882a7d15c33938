// Package log builds the server's slog loggers from the configuration. Every connection's logger
// adds "conn" (an id unique in the process), "proto" and "remote"; the mail log (package maillog)
// goes to its own file when log.mail_log is set. Message bodies and passwords are never logged.
package log

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"posthorn/internal/config"
)

// New returns the server logger writing to w.
func New(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenMailLog returns the logger for the mail log: the server logger when path is "", otherwise
// a logger appending to path, with the file to close at shutdown.
func OpenMailLog(cfg config.Log, server *slog.Logger) (*slog.Logger, io.Closer, error) {
	if cfg.MailLog == "" {
		return server, io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(cfg.MailLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("open log.mail_log: %w", err)
	}
	return New(cfg, f), f, nil
}

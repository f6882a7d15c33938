// Package web is posthorn's one HTTP server. For now it serves GET /healthz (200 "ok" when the
// store answers, 503 otherwise) and GET /metrics (Prometheus text format); the admin UI, JSON API,
// tracking and autoconfig endpoints join it later.
package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger is what the health check asks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Handler returns the HTTP routes.
func Handler(gatherer prometheus.Gatherer, health Pinger, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := health.Ping(ctx); err != nil {
			logger.Warn("health check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "store unavailable\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

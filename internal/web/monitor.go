package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health is what GET /healthz and GET /readyz report on.
//
// /healthz says the process is alive: it answers 200 "ok" whenever the HTTP server serves a
// request, whatever the state of the rest, so a supervisor restarts only a process that no
// longer answers. /readyz says whether the server can do its work: 200 "ready" when Store
// answers a ping and Ready reports nothing, else 503 with "not ready: " and the problems,
// one short phrase each ("store unreachable", "listener listen.imap not serving", "queue
// stuck"), never an error's text, which might name a path or an address.
type Health struct {
	Store Pinger
	// Ready returns what else keeps the server from its work, as short phrases; nil checks
	// nothing else. internal/app passes its listeners and the queue here.
	Ready func(ctx context.Context) []string
}

// readinessTimeout bounds the checks of one GET /readyz.
const readinessTimeout = 2 * time.Second

func (h Health) routes(mux *http.ServeMux, logger *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		problems := h.Problems(ctx, logger)
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+strings.Join(problems, "; ")+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}

// Problems returns what keeps the server from being ready; none when it is.
func (h Health) Problems(ctx context.Context, logger *slog.Logger) []string {
	var problems []string
	if err := h.Store.Ping(ctx); err != nil {
		logger.Warn("readiness: store ping failed", "err", err)
		problems = append(problems, "store unreachable")
	}
	if h.Ready != nil {
		problems = append(problems, h.Ready(ctx)...)
	}
	return problems
}

// Metrics counts the HTTP listener's requests. A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
}

// NewMetrics creates posthorn_http_requests_total and registers it with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "posthorn_http_requests_total",
		Help: "HTTP requests by route class (api, tracking, unsubscribe, subscribe, client_setup, mta_sts, metrics, health, unmatched) and status code.",
	}, []string{"route", "code"})}
	reg.MustRegister(m.requests)
	return m
}

// Instrument counts the requests h serves into m, by the class of the route that served them.
// h must be (or end in) the ServeMux of Handler: the class is read from the pattern it matched.
func Instrument(h http.Handler, m *Metrics) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(routeClass(r.Pattern), strconv.Itoa(sw.code)).Inc()
	})
}

// routeClass names the class of a ServeMux pattern ("GET /t/c/{token}"): a small fixed set,
// so no client can grow the label values; "" (no route matched) is "unmatched".
func routeClass(pattern string) string {
	_, path, ok := strings.Cut(pattern, " ")
	if !ok {
		path = pattern
	}
	switch {
	case path == "":
		return "unmatched"
	case path == "/metrics":
		return "metrics"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case strings.HasPrefix(path, "/t/"):
		return "tracking"
	case strings.HasPrefix(path, "/u/") || strings.HasPrefix(path, "/p/"):
		return "unsubscribe"
	case strings.HasPrefix(path, "/s/"):
		return "subscribe"
	case path == "/.well-known/mta-sts.txt":
		return "mta_sts"
	case strings.HasSuffix(path, "/config-v1.1.xml") || strings.EqualFold(path, "/autodiscover/autodiscover.xml"):
		return "client_setup"
	}
	return "other"
}

// statusWriter remembers the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

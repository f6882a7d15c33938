package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHealthAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "posthorn_test_total", Help: "t"})
	reg.MustRegister(counter)
	counter.Add(3)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	h := Handler(reg, pinger{}, logger)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "posthorn_test_total 3") {
		t.Fatalf("metrics = %d %q", code, body)
	}
	down := Handler(reg, pinger{errors.New("disk gone")}, logger)
	if code, body := get(t, down, "/healthz"); code != 503 || strings.Contains(body, "disk gone") {
		t.Fatalf("unhealthy = %d %q (must not leak the error)", code, body)
	}
}

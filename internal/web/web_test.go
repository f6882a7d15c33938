package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

// loopback lets loopback clients read the metrics, as the default configuration does.
var loopback = MetricsAccess{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// get sends a request from 127.0.0.1; header is "Name: value" lines.
func get(t *testing.T, h http.Handler, path string, header ...string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	for _, line := range header {
		name, value, _ := strings.Cut(line, ": ")
		req.Header.Set(name, value)
	}
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHealthAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "posthorn_test_total", Help: "t"})
	reg.MustRegister(counter)
	counter.Add(3)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	h := Handler(reg, pinger{}, loopback, logger)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "posthorn_test_total 3") {
		t.Fatalf("metrics = %d %q", code, body)
	}
	down := Handler(reg, pinger{errors.New("disk gone")}, loopback, logger)
	if code, body := get(t, down, "/healthz"); code != 503 || strings.Contains(body, "disk gone") {
		t.Fatalf("unhealthy = %d %q (must not leak the error)", code, body)
	}
}

// TestMetricsAccess: /metrics is served to the allowed networks and to the bearer token only;
// /healthz to anyone.
func TestMetricsAccess(t *testing.T) {
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	elsewhere := MetricsAccess{Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Token: "s3cret-token"}
	h := Handler(reg, pinger{}, elsewhere, logger)
	for _, tc := range []struct {
		header []string
		want   int
	}{
		{nil, 403},
		{[]string{"Authorization: Bearer wrong"}, 403},
		{[]string{"Authorization: Basic czNjcmV0LXRva2Vu"}, 403},
		{[]string{"Authorization: Bearer s3cret-token"}, 200},
	} {
		if code, _ := get(t, h, "/metrics", tc.header...); code != tc.want {
			t.Errorf("/metrics from 127.0.0.1 with %q = %d, want %d", tc.header, code, tc.want)
		}
	}
	if code, _ := get(t, h, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	noToken := Handler(reg, pinger{}, MetricsAccess{Networks: elsewhere.Networks}, logger)
	if code, _ := get(t, noToken, "/metrics", "Authorization: Bearer "); code != 403 {
		t.Errorf("/metrics with an empty token when none is set = %d, want 403", code)
	}
}

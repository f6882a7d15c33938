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

	h := Handler(reg, Health{Store: pinger{}}, loopback, logger)
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "posthorn_test_total 3") {
		t.Fatalf("metrics = %d %q", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("readyz = %d %q", code, body)
	}
}

// TestReadiness: /healthz answers 200 whatever the state of the store and the rest (the
// process is alive); /readyz answers 503 naming each problem, never an error's text.
func TestReadiness(t *testing.T) {
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name     string
		health   Health
		wantCode int
		wantBody string
	}{
		{"all well", Health{Store: pinger{}, Ready: func(context.Context) []string { return nil }}, 200, "ready\n"},
		{"store down", Health{Store: pinger{errors.New("open /var/lib/posthorn/posthorn.db: disk gone")}}, 503,
			"not ready: store unreachable\n"},
		{"listener and queue", Health{Store: pinger{}, Ready: func(context.Context) []string {
			return []string{"listener listen.imap not serving", "queue stuck"}
		}}, 503, "not ready: listener listen.imap not serving; queue stuck\n"},
		{"everything", Health{Store: pinger{errors.New("disk gone")}, Ready: func(context.Context) []string {
			return []string{"queue stuck"}
		}}, 503, "not ready: store unreachable; queue stuck\n"},
	} {
		h := Handler(reg, tc.health, loopback, logger)
		if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("%s: healthz = %d %q, want 200 \"ok\"", tc.name, code, body)
		}
		if code, body := get(t, h, "/readyz"); code != tc.wantCode || body != tc.wantBody {
			t.Errorf("%s: readyz = %d %q, want %d %q", tc.name, code, body, tc.wantCode, tc.wantBody)
		}
	}
}

// TestReadinessDeadline: a check that hangs is cut off by the readiness timeout, through
// the context it is given.
func TestReadinessDeadline(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := Handler(prometheus.NewRegistry(), Health{Store: pinger{}, Ready: func(ctx context.Context) []string {
		<-ctx.Done()
		return []string{"queue unknown"}
	}}, loopback, logger)
	if code, body := get(t, h, "/readyz"); code != 503 || body != "not ready: queue unknown\n" {
		t.Fatalf("readyz = %d %q", code, body)
	}
}

// TestRequestMetrics: every request is counted by route class and status, and a path no
// route matches is "unmatched", whatever the client wrote.
func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := Instrument(Handler(reg, Health{Store: pinger{errors.New("down")}}, loopback, logger), NewMetrics(reg))
	get(t, h, "/healthz")
	get(t, h, "/readyz")
	get(t, h, "/no/such/page")
	get(t, h, "/another-random-path")
	_, body := get(t, h, "/metrics")
	for _, want := range []string{
		`posthorn_http_requests_total{code="200",route="health"} 1`,
		`posthorn_http_requests_total{code="503",route="health"} 1`,
		`posthorn_http_requests_total{code="404",route="unmatched"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
	for pattern, want := range map[string]string{
		"GET /t/c/{token}": "tracking", "POST /u/{token}": "unsubscribe", "GET /s/subscribe/{list}": "subscribe",
		"/api/v1/": "api", "GET /.well-known/mta-sts.txt": "mta_sts", "POST /Autodiscover/Autodiscover.xml": "client_setup",
		"GET /mail/config-v1.1.xml": "client_setup", "GET /metrics": "metrics", "": "unmatched",
	} {
		if got := routeClass(pattern); got != want {
			t.Errorf("routeClass(%q) = %q, want %q", pattern, got, want)
		}
	}
}

// TestMetricsAccess: /metrics is served to the allowed networks and to the bearer token only;
// /healthz to anyone.
func TestMetricsAccess(t *testing.T) {
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	elsewhere := MetricsAccess{Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Token: "s3cret-token"}
	h := Handler(reg, Health{Store: pinger{}}, elsewhere, logger)
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
	noToken := Handler(reg, Health{Store: pinger{}}, MetricsAccess{Networks: elsewhere.Networks}, logger)
	if code, _ := get(t, noToken, "/metrics", "Authorization: Bearer "); code != 403 {
		t.Errorf("/metrics with an empty token when none is set = %d, want 403", code)
	}
}

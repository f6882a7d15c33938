package test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"posthorn/internal/testutil/conntest"
)

// TestMetricsAccessEndToEnd: with metrics_networks leaving out loopback, GET /metrics from
// 127.0.0.1 gets 403 unless it carries the bearer token; /healthz stays open.
func TestMetricsAccessEndToEnd(t *testing.T) {
	s := NewServer(t, "[http]\nmetrics_networks = [\"10.0.0.0/8\"]\nmetrics_token = \"a-long-random-token\"\n")
	s.Start()
	get := func(path, token string) int {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+s.HTTP+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", 403},
		{"/metrics", "wrong", 403},
		{"/metrics", "a-long-random-token", 200},
		{"/healthz", "", 200},
	} {
		if got := get(tc.path, tc.token); got != tc.want {
			t.Errorf("GET %s with token %q: %d, want %d", tc.path, tc.token, got, tc.want)
		}
	}
}

// TestPerAddressLimitEndToEnd: the configured per-address limits of the binary, on IMAP and
// POP3 (each protocol's own test covers the rest): the connection over the limit from
// 127.0.0.1 is refused while 127.0.0.2 is served.
func TestPerAddressLimitEndToEnd(t *testing.T) {
	s := NewServer(t, "[imap]\nmax_connections_per_address = 3\n[pop3]\nmax_connections_per_address = 2\n")
	s.Start()
	conntest.CheckPerAddressLimit(t, s.IMAP, s.IMAPS, 3, "* OK ", "* BYE [UNAVAILABLE] ")
	conntest.CheckPerAddressLimit(t, s.POP3, s.POP3, 2, "+OK ", "-ERR [IN-USE] ")
}

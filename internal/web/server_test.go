package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/testutil/conntest"
)

// serve runs the handler on a loopback listener with lim and returns its address.
func serve(t *testing.T, lim Limits) string {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Handler(prometheus.NewRegistry(), Health{Store: pinger{}}, loopback, logger), lim, logger)
	go srv.Serve(Listener(l, lim))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().String()
}

// healthz sends GET /healthz on a keep-alive connection and reads the status line and body.
func healthz(t *testing.T, c *conntest.Conn) string {
	t.Helper()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.R, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(body)
}

// TestIdleKeepAliveClosed: a keep-alive connection that sends no next request is closed after
// the idle timeout.
func TestIdleKeepAliveClosed(t *testing.T) {
	addr := serve(t, Limits{IdleTimeout: 300 * time.Millisecond, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	c := conntest.DialFrom(t, "127.0.0.1", addr)
	if got := healthz(t, c); got != "200 OK ok\n" {
		t.Fatalf("healthz: %q", got)
	}
	c.ExpectClosed(t, 10*time.Second)
}

// TestSlowRequestClosed: a client that trickles its request headers is closed by the read
// timeout.
func TestSlowRequestClosed(t *testing.T) {
	addr := serve(t, Limits{ReadTimeout: 300 * time.Millisecond})
	c := conntest.DialFrom(t, "127.0.0.1", addr)
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nX-Slow: ")
	c.Trickle(t, 50*time.Millisecond, 30*time.Second)
}

// TestConnectionCaps: a connection over the limit per address gets 503 and is closed, one from
// another address is served; so is one over the total limit.
func TestConnectionCaps(t *testing.T) {
	addr := serve(t, Limits{MaxConnections: 3, MaxPerAddress: 2, IdleTimeout: time.Minute})
	for range 2 {
		if got := healthz(t, conntest.DialFrom(t, "127.0.0.1", addr)); got != "200 OK ok\n" {
			t.Fatalf("within the limit: %q", got)
		}
	}
	over := conntest.DialFrom(t, "127.0.0.1", addr)
	if line := over.ReadLine(t); !strings.HasPrefix(line, "HTTP/1.1 503 ") {
		t.Fatalf("over the limit per address: %q", line)
	}
	over.ExpectClosed(t, 10*time.Second)
	if got := healthz(t, conntest.DialFrom(t, "127.0.0.2", addr)); got != "200 OK ok\n" {
		t.Fatalf("from a second address: %q", got)
	}
	full := conntest.DialFrom(t, "127.0.0.3", addr)
	if line := full.ReadLine(t); !strings.HasPrefix(line, "HTTP/1.1 503 ") {
		t.Fatalf("over the total limit: %q", line)
	}
}

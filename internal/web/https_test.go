package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/certs"
	"posthorn/internal/config"
	"posthorn/internal/testutil/conntest"
)

// TestTLSListener: over TLSListener the handler answers with Strict-Transport-Security, and a
// connection over the per-address limit is closed before any byte of TLS; over plain HTTP the
// same handler sends no HSTS.
func TestTLSListener(t *testing.T) {
	src, err := certs.Load(config.TLS{}, "localhost", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	lim := Limits{MaxConnections: 10, MaxPerAddress: 1, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute}
	h := HSTS(Handler(prometheus.NewRegistry(), Health{Store: pinger{}}, loopback, logger))
	listen := func(wrap func(net.Listener) net.Listener) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(h, lim, logger)
		go srv.Serve(wrap(l))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
		return l.Addr().String()
	}
	tlsAddr := listen(func(l net.Listener) net.Listener { return TLSListener(l, lim, src.HTTPSConfig()) })
	plainAddr := listen(func(l net.Listener) net.Listener { return Listener(l, lim) })

	healthz := func(c net.Conn) *http.Response {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := tls.Client(conntest.DialFrom(t, "127.0.0.1", tlsAddr), &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	resp := healthz(first)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Fatalf("over TLS: %s, Strict-Transport-Security %q", resp.Status, resp.Header.Get("Strict-Transport-Security"))
	}
	// first stays open and holds the address's one slot.
	over := conntest.DialFrom(t, "127.0.0.1", tlsAddr)
	_ = over.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(over.R); err != nil || len(b) != 0 {
		t.Fatalf("over the limit: read %q, %v; want the connection closed without a byte", b, err)
	}

	if resp := healthz(conntest.DialFrom(t, "127.0.0.1", plainAddr)); resp.StatusCode != http.StatusOK ||
		resp.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("over plain HTTP: %s, Strict-Transport-Security %q", resp.Status, resp.Header.Get("Strict-Transport-Security"))
	}
}

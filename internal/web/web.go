// Package web is posthorn's one HTTP server. It serves GET /healthz (200 "ok" while the process
// serves HTTP), GET /readyz (200 "ready" when the store answers, the listeners serve and the
// queue is not stuck, 503 naming what is not; monitor.go), GET /metrics (Prometheus text
// format; Instrument counts every request by route class) and, with CampaignRoutes, the
// public endpoints of bulk mail: the open pixel, tracked links, the view in a browser,
// unsubscribe (RFC 8058 one-click) and preferences, the subscription form and its
// confirmation (tracking.go explains how they treat hostile input), the JSON API under
// /api/v1/ (package web/api, added with its Routes), and with SetupRoutes the MTA-STS policy
// and the autoconfig and autodiscover answers of every local domain (clientsetup.go), and the
// web UI (package web/ui, added with its Routes).
//
// GET /metrics tells how much mail the server handles and for how many users, so it is served
// only to clients in MetricsAccess.Networks (loopback by default) or with its bearer token
// (RFC 6750 §2.1); anyone else gets 403. The listener holds connections to limits in total and
// per client address (package netserver; over them a client gets 503 and the connection is
// closed), and NewServer bounds the time to read a request, to write a response and for a
// keep-alive connection to wait for its next request.
//
// The same handler serves the https listener (listen.https) through TLSListener: TLS with the
// server's certificate (certs.Source.HTTPSConfig, HTTP/2 by ALPN), the same routes and the
// same restrictions (GET /metrics looks at the client's address whatever the transport), and
// HSTS adds Strict-Transport-Security to every response that went over TLS. The web UI's
// cookies are Secure there (package web/ui).
package web

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"posthorn/internal/netserver"
)

// Pinger is what the readiness check asks of the store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// MetricsAccess says who may read GET /metrics: a client in Networks, or one that sends
// "Authorization: Bearer Token" when Token is not empty.
type MetricsAccess struct {
	Networks []netip.Prefix
	Token    string
}

func (a MetricsAccess) allows(r *http.Request) bool {
	if a.Token != "" {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) == 1 {
			return true
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, n := range a.Networks {
		if n.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// Handler returns the HTTP routes, with those of routes (CampaignRoutes) added.
func Handler(gatherer prometheus.Gatherer, health Health, access MetricsAccess, logger *slog.Logger, routes ...Routes) http.Handler {
	mux := http.NewServeMux()
	for _, add := range routes {
		add(mux)
	}
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if !access.allows(r) {
			if access.Token != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			}
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	health.routes(mux, logger)
	return mux
}

// Limits are the HTTP listener's connection limits (0: none) and timeouts.
type Limits struct {
	MaxConnections, MaxPerAddress          int
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// NewServer returns the HTTP server of h, with the timeouts of lim.
func NewServer(h http.Handler, lim Limits, logger *slog.Logger) *http.Server {
	header := 10 * time.Second
	if lim.ReadTimeout > 0 {
		header = min(header, lim.ReadTimeout)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: header,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// hsts is the Strict-Transport-Security value of https responses (RFC 6797 §6.1): one year, the
// usual max-age, and without includeSubDomains, since the names under the server's host name
// and under a mail domain (mta-sts., autoconfig.) are not all this server's to speak for.
const hsts = "max-age=31536000"

// HSTS adds Strict-Transport-Security to every response to a request that came over TLS; a
// browser ignores it over plain HTTP (RFC 6797 §8.1), so it is never sent there.
func HSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		h.ServeHTTP(w, r)
	})
}

// TLSListener holds the connections accepted on l to the limits of lim, as Listener does, and
// speaks TLS with cfg on those it admits. A refused connection is closed without a word: a 503
// would need a TLS handshake first, which is the work the limit is there to spare.
func TLSListener(l net.Listener, lim Limits, cfg *tls.Config) net.Listener {
	return tls.NewListener(&netserver.Listener{
		Listener: l,
		Limiter:  &netserver.Limiter{Max: lim.MaxConnections, MaxPerAddress: lim.MaxPerAddress},
		Refuse:   func(netserver.Refusal) string { return "" },
	}, cfg)
}

// Listener holds the connections accepted on l to the limits of lim: over them a client gets
// 503 (RFC 9110 §15.6.4) and the connection is closed.
func Listener(l net.Listener, lim Limits) net.Listener {
	const refusal = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n" +
		"Retry-After: 10\r\nContent-Length: 22\r\n\r\ntoo many connections\r\n"
	return &netserver.Listener{
		Listener: l,
		Limiter:  &netserver.Limiter{Max: lim.MaxConnections, MaxPerAddress: lim.MaxPerAddress},
		Refuse:   func(netserver.Refusal) string { return refusal },
	}
}

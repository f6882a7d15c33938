package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// suspectWindow is how long after a connection was found dead the pool checks every connection
// it hands out.
const suspectWindow = 5 * time.Second

// connHealth makes the pool recover at once from an event that cuts all its connections (a
// restart of the server, a failover, a network fault). pgxpool pings a connection before
// handing it out only when it was idle for over a second, so after such an event every
// connection used just before fails the one call that finds it dead. connHealth notes when a
// connection came back closed (TraceRelease), and for suspectWindow after that has the pool
// ping every connection it hands out (shouldPing), so the dead ones are dropped before use: one
// call fails, with a temporary error the servers answer "try again later" to, and the next ones
// get fresh connections. The cost is a round trip per call for a few seconds after a lost
// connection (a call cancelled mid-query loses its connection too).
type connHealth struct {
	lost atomic.Int64 // when a connection was last found closed, unix nanoseconds; 0: never
}

// install sets cfg's pool to consult h.
func (h *connHealth) install(cfg *pgxpool.Config) {
	cfg.ConnConfig.Tracer = h
	cfg.ShouldPing = h.shouldPing
}

// TraceRelease notes a connection that comes back to the pool closed (pgxpool.ReleaseTracer).
func (h *connHealth) TraceRelease(_ *pgxpool.Pool, data pgxpool.TraceReleaseData) {
	if data.Conn.IsClosed() {
		h.lost.Store(time.Now().UnixNano())
	}
}

// shouldPing: pgxpool's default (idle for over a second), and every connection within
// suspectWindow of a lost one.
func (h *connHealth) shouldPing(_ context.Context, p pgxpool.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true
	}
	lost := h.lost.Load()
	return lost != 0 && time.Since(time.Unix(0, lost)) < suspectWindow
}

// TraceQueryStart and TraceQueryEnd make connHealth a pgx.QueryTracer, the type of
// ConnConfig.Tracer through which pgxpool finds its ReleaseTracer; they do nothing.
func (h *connHealth) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (h *connHealth) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/queue"
	"posthorn/internal/web"
)

// readiness is what GET /readyz asks of the server beyond the store (web.Health): whether the
// serve loop of every configured listener runs, and whether the outbound queue is stuck
// (queue.Scheduler.Stuck). A listener counts as serving from just before its Serve is called
// until Serve returns: bound at start (bindAll) and in its accept loop.
type readiness struct {
	mu      sync.Mutex
	serving map[string]bool // by config key
	queue   atomic.Pointer[queue.Scheduler]
}

// serve runs a listener's serve loop in a goroutine, marked as serving while it runs; its
// error goes to s.errs, which ends Wait.
func (s *Server) serve(key string, run func() error) {
	s.readiness.mu.Lock()
	if s.readiness.serving == nil {
		s.readiness.serving = map[string]bool{}
	}
	s.readiness.serving[key] = true
	s.readiness.mu.Unlock()
	go func() {
		err := run()
		s.readiness.mu.Lock()
		s.readiness.serving[key] = false
		s.readiness.mu.Unlock()
		s.errs <- err
	}()
}

// notReady returns the problems of the listeners and the queue, for web.Health.Ready: a
// configured listener that is not serving, a queue that is not started or is stuck.
func (s *Server) notReady(ctx context.Context) []string {
	var problems []string
	s.readiness.mu.Lock()
	for _, l := range listenerAddrs(s.cfg.Listen) {
		if l.addr != "" && !s.readiness.serving[l.key] {
			problems = append(problems, "listener "+l.key+" not serving")
		}
	}
	s.readiness.mu.Unlock()
	q := s.readiness.queue.Load()
	if q == nil {
		return append(problems, "queue not started")
	}
	stuck, err := q.Stuck(ctx)
	switch {
	case err != nil:
		s.logger.Warn("readiness: queue check failed", "err", err)
		problems = append(problems, "queue unknown")
	case stuck:
		problems = append(problems, "queue stuck")
	}
	return problems
}

// registerReadiness registers posthorn_ready: 1 when GET /readyz would answer 200, read at
// each scrape, so that an alert needs no probe of /readyz.
func registerReadiness(reg prometheus.Registerer, health web.Health, s *Server) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "posthorn_ready",
		Help: "1 when the server is ready (GET /readyz answers 200: store reachable, every listener serving, queue not stuck), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if len(health.Problems(ctx, s.logger)) > 0 {
			return 0
		}
		return 1
	}))
}

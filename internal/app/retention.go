package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/config"
	"posthorn/internal/lease"
	"posthorn/internal/retention"
	"posthorn/internal/store"
)

// NewRetention returns the retention service of the data directory d with the rules of
// cfg's [retention] (the server's daily job and `posthorn retention run`); reg, when not nil,
// gets its metrics. An error when the store keeps no legal holds.
func NewRetention(cfg config.Config, d *Data, logger *slog.Logger, reg prometheus.Registerer) (*retention.Service, error) {
	rs, ok := d.Store.(store.RetentionStore)
	if !ok {
		return nil, fmt.Errorf("the store %T keeps no legal holds: retention cannot run", d.Store)
	}
	svc := &retention.Service{Store: d.Store, Retention: rs, Bodies: d.Blobs.Bodies(), Rules: cfg.Retention,
		Logger: logger.With("component", "retention")}
	if reg != nil {
		svc.Metrics = retention.NewMetrics(reg)
	}
	return svc, nil
}

// retentionLease is the name of the lease under which one node runs the retention schedule.
const retentionLease = "retention"

// startRetention runs the retention job once a day at [retention] run_at while the server
// runs (retention.Daily); without any rule it does not run (its metrics stay at 0). This is
// the one place that schedules it. The schedule runs under the lease retentionLease
// (lease.Runner) when the store keeps leases, so of several nodes sharing a store one runs it.
func (s *Server) startRetention(reg prometheus.Registerer) error {
	svc, err := NewRetention(s.cfg, s.data, s.logger, reg)
	if err != nil {
		return err
	}
	if !s.cfg.Retention.HasRules() {
		return nil
	}
	run := func(ctx context.Context) {
		if _, err := svc.Run(ctx, false); err != nil {
			s.logger.Error("retention run", "err", err)
		}
	}
	offset := s.cfg.Retention.RunAtOffset()
	s.logger.Info("retention job scheduled", "run_at", s.cfg.Retention.RunAt+" UTC",
		"next", retention.NextRun(time.Now(), offset).Format(time.RFC3339))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	daily := func(ctx context.Context) { retention.Daily(ctx, retention.SystemClock{}, offset, run) }
	go func() {
		defer close(done)
		leases, ok := s.data.Store.(store.Leases)
		if !ok {
			daily(ctx)
			return
		}
		// One node at a time of those sharing the store runs the schedule.
		r := &lease.Runner{Leases: leases, Name: retentionLease, Holder: nodeName(s.cfg),
			Logger: s.logger.With("component", "retention")}
		_ = r.Run(ctx, daily) // only ends with ctx
	}()
	s.stopRetention = func() {
		cancel()
		<-done
	}
	return nil
}

package app

import (
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/config"
	"posthorn/internal/dns"
	"posthorn/internal/maillog"
	"posthorn/internal/queue"
)

// startQueue starts the outbound queue scheduler of [delivery]. DANE applies when the
// configured resolver (or the system's first one) is on loopback and validates: see dns.NewValidating.
func (s *Server) startQueue(cfg config.Config, data *Data, mailLog *maillog.Logger, reg prometheus.Registerer) error {
	qs, ok := data.Store.(queue.Store)
	if !ok {
		return errors.New("delivery: the store keeps no outbound queue")
	}
	d := cfg.Delivery
	sched := &queue.Scheduler{
		Hostname:  cfg.Hostname,
		Store:     qs,
		Bodies:    data.Blobs.Bodies(),
		Committer: s.committer,
		Resolver:  dns.New(cfg.DNS.Resolver),
		Logger:    s.logger.With("component", "queue"),
		MailLog:   mailLog,
		Metrics:   queue.NewMetrics(reg, qs),
		Port:      d.Port,
		Smarthost: queue.Smarthost{Addr: d.Smarthost, Username: d.Username, Password: d.Password},

		Lifetime:           time.Duration(d.LifetimeHours) * time.Hour,
		DelayNotice:        time.Duration(d.DelayNoticeHours) * time.Hour,
		RetryMin:           time.Duration(d.RetryMinSeconds) * time.Second,
		RetryMax:           time.Duration(d.RetryMaxSeconds) * time.Second,
		MaxConnections:     d.MaxConnections,
		MaxPerDestination:  d.MaxConnectionsPerDomain,
		RatePerDestination: d.RatePerDomain,
		PollInterval:       time.Duration(d.PollSeconds) * time.Second,
		Journal:            filepath.Join(cfg.DataDir, "queue-delivered.journal"),
		Outcomes:           queueOutcomes(cfg, data, s.logger, s.campaignMetrics), // campaign_feedback.go
	}
	if v := dns.NewValidating(cfg.DNS.Resolver); v != nil {
		sched.Secure = v
	}
	sched.Start()
	s.queue = sched
	s.readiness.queue.Store(sched)
	s.logger.Info("outbound delivery", slog.Int("port", d.Port), slog.String("smarthost", d.Smarthost),
		slog.Bool("dane", sched.Secure != nil))
	return nil
}

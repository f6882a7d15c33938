package campaign

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/store"
)

// Metrics count bulk mail's activity: the messages handed to the queue and the events
// recorded. A nil *Metrics records nothing.
type Metrics struct {
	sent   *prometheus.CounterVec
	events *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_campaign_messages_sent_total",
			Help: "Campaign messages committed for delivery (queued, or delivered locally), by kind (bulk, transactional).",
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_campaign_events_total",
			Help: "Campaign events recorded, by kind (delivered, deferred, bounce, open, click, unsubscribe, complaint); machine opens and clicks included.",
		}, []string{"kind"}),
	}
	for _, k := range []string{"bulk", "transactional"} {
		m.sent.WithLabelValues(k)
	}
	reg.MustRegister(m.sent, m.events)
	return m
}

func (m *Metrics) messageSent(kind string) {
	if m != nil {
		m.sent.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) recorded(events []store.Event) {
	if m == nil {
		return
	}
	for _, e := range events {
		m.events.WithLabelValues(string(e.Kind)).Inc()
	}
}

// addEvents records events in the store and counts them.
func (s *Service) addEvents(ctx context.Context, events []store.Event) error {
	if err := s.Store.AddEvents(ctx, events); err != nil {
		return err
	}
	s.Metrics.recorded(events)
	return nil
}

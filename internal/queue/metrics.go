package queue

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/store"
)

// Metrics are the queue's Prometheus metrics: the queue's size by state and the age of its
// oldest due row (read from the store at each scrape), attempts by result, and the time from
// queueing to delivery.
type Metrics struct {
	results *prometheus.CounterVec
	latency prometheus.Histogram
}

// NewMetrics registers the queue's metrics; the size gauge reads qs at each scrape.
func NewMetrics(reg prometheus.Registerer, qs store.QueueStore) *Metrics {
	m := &Metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_queue_deliveries_total",
			Help: "Outbound recipients by the result of an attempt: delivered, deferred or bounced.",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "posthorn_queue_delivery_seconds",
			Help:    "Time from queueing to delivery of outbound recipients.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600},
		}),
	}
	for _, r := range []string{"delivered", "deferred", "bounced"} {
		m.results.WithLabelValues(r)
	}
	reg.MustRegister(m.results, m.latency, &sizeCollector{qs: qs,
		desc: prometheus.NewDesc("posthorn_queue_messages",
			"Outbound recipients queued, by state (ready, deferred, held).", []string{"state"}, nil),
		oldestDue: prometheus.NewDesc("posthorn_queue_oldest_due_age_seconds",
			"How long the oldest row that is not held has been due; 0 when none is due.", nil, nil),
	})
	return m
}

func (m *Metrics) result(r string) { m.results.WithLabelValues(r).Inc() }

// sizeCollector reads the queue's counts and its oldest due row when scraped.
type sizeCollector struct {
	qs              store.QueueStore
	desc, oldestDue *prometheus.Desc
}

func (c *sizeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.oldestDue
}

func (c *sizeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.qs.QueueCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(state))
	}
	// As Scheduler.Stuck reads it: the earliest next attempt of a row that is not held.
	oldest, err := c.qs.NextQueueAttempt(ctx, time.Unix(0, 0))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.oldestDue, err)
		return
	}
	age := 0.0
	if now := time.Now(); !oldest.IsZero() && oldest.Before(now) {
		age = now.Sub(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.oldestDue, prometheus.GaugeValue, age)
}

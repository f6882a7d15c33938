package retention

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count what the retention runs removed. A nil *Metrics records nothing.
type Metrics struct {
	removed *prometheus.CounterVec
	runs    *prometheus.CounterVec
	lastRun prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_retention_removed_total",
			Help: "What the retention job removed, by kind (messages, mail_events, tracking_events, login_sources, web_logins).",
		}, []string{"kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_retention_runs_total",
			Help: "Runs of the retention job that removed (dry runs aside), by result (ok, failed: some part of it failed).",
		}, []string{"result"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "posthorn_retention_last_run_timestamp_seconds",
			Help: "When the retention job last ran (dry runs aside), in seconds since the epoch; 0 before its first run.",
		}),
	}
	for _, k := range Kinds {
		m.removed.WithLabelValues(k)
	}
	for _, r := range []string{"ok", "failed"} {
		m.runs.WithLabelValues(r)
	}
	reg.MustRegister(m.removed, m.runs, m.lastRun)
	return m
}

// ran counts one run's removals.
func (m *Metrics) ran(rep Report, ok bool) {
	if m == nil {
		return
	}
	for k, v := range rep.Counts() {
		m.removed.WithLabelValues(k).Add(float64(v))
	}
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.runs.WithLabelValues(result).Inc()
	m.lastRun.Set(float64(rep.At.UnixNano()) / 1e9)
}

package filter

import "github.com/prometheus/client_golang/prometheus"

// Metrics count verdicts. A nil *Metrics records nothing.
type Metrics struct {
	verdicts *prometheus.CounterVec
	reasons  *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_filter_verdicts_total",
			Help: "Inbound filter verdicts, by stage (connect, rcpt, data) and action (accept, junk, tempfail, reject).",
		}, []string{"stage", "action"}),
		reasons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_filter_reasons_total",
			Help: "Findings of the inbound filter, by the action of the verdict they were part of and reason.",
		}, []string{"action", "reason"}),
	}
	reg.MustRegister(m.verdicts, m.reasons)
	return m
}

// count records v, decided at stage. Accepted connections and recipients without findings are
// not counted, so the counters measure decisions rather than traffic.
func (m *Metrics) count(stage string, v *Verdict) {
	if m == nil || stage != "data" && v.Action == Accept && len(v.Reasons) == 0 {
		return
	}
	action := v.Action.String()
	m.verdicts.WithLabelValues(stage, action).Inc()
	for _, r := range v.Reasons {
		m.reasons.WithLabelValues(action, r.Name).Inc()
	}
}

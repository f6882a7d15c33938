package netserver

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts the connections of one protocol server. A nil *Metrics records nothing.
type Metrics struct {
	accepted prometheus.Counter
	active   prometheus.Gauge
	overflow prometheus.Counter
}

// NewMetrics creates posthorn_PROTO_connections_total, posthorn_PROTO_connections_active and
// posthorn_PROTO_connections_refused_total and registers them with reg; name is the protocol
// as the help texts write it ("POP3").
func NewMetrics(reg prometheus.Registerer, proto, name string) *Metrics {
	m := &Metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_" + proto + "_connections_total", Help: name + " connections accepted.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "posthorn_" + proto + "_connections_active", Help: name + " connections open now.",
		}),
		overflow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_" + proto + "_connections_refused_total", Help: name + " connections refused by the connection limit.",
		}),
	}
	reg.MustRegister(m.accepted, m.active, m.overflow)
	return m
}

func (m *Metrics) opened() {
	if m != nil {
		m.accepted.Inc()
		m.active.Inc()
	}
}

func (m *Metrics) closed() {
	if m != nil {
		m.active.Dec()
	}
}

func (m *Metrics) refused() {
	if m != nil {
		m.overflow.Inc()
	}
}

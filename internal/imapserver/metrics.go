package imapserver

import (
	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/netserver"
)

// Metrics are the IMAP server's metrics. A nil *Metrics records nothing. Logins are counted
// by the shared authenticator (posthorn_auth_attempts_total{protocol="imap"}).
type Metrics struct {
	conns            *netserver.Metrics
	commands         *prometheus.CounterVec
	appendedMessages prometheus.Counter
	appendedBytes    prometheus.Counter
	idling           prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		conns: netserver.NewMetrics(reg, "imap", "IMAP"),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_imap_commands_total", Help: "IMAP commands by name and status (OK, NO, BAD).",
		}, []string{"command", "status"}),
		appendedMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_imap_appended_messages_total", Help: "Messages stored by APPEND.",
		}),
		appendedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_imap_appended_bytes_total", Help: "Bytes of messages stored by APPEND.",
		}),
		idling: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "posthorn_imap_idle_sessions", Help: "IMAP sessions in IDLE now.",
		}),
	}
	reg.MustRegister(m.commands,
		m.appendedMessages, m.appendedBytes, m.idling)
	return m
}

// connections are the connection metrics, nil when m is.
func (m *Metrics) connections() *netserver.Metrics {
	if m == nil {
		return nil
	}
	return m.conns
}

// command counts a finished command; unknown command names are counted as "unknown", so a
// client cannot grow the label set.
func (m *Metrics) command(name, status string) {
	if m == nil {
		return
	}
	if _, ok := lookupCommand(name); !ok {
		name = "unknown"
	}
	m.commands.WithLabelValues(name, status).Inc()
}

func (m *Metrics) appended(size int64) {
	if m != nil {
		m.appendedMessages.Inc()
		m.appendedBytes.Add(float64(size))
	}
}

func (m *Metrics) idle(delta float64) {
	if m != nil {
		m.idling.Add(delta)
	}
}

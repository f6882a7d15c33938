package pop3server

import (
	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/netserver"
)

// Metrics are the POP3 server's metrics. A nil *Metrics records nothing. Logins are counted by
// the shared authenticator (posthorn_auth_attempts_total{protocol="pop3"}), connections by
// package netserver (posthorn_pop3_connections_total, _active, _refused_total).
type Metrics struct {
	conns             *netserver.Metrics
	commands          *prometheus.CounterVec
	retrievedMessages prometheus.Counter
	retrievedBytes    prometheus.Counter
	deletedMessages   prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		conns: netserver.NewMetrics(reg, "pop3", "POP3"),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_pop3_commands_total", Help: "POP3 commands by name and status (OK, ERR).",
		}, []string{"command", "status"}),
		retrievedMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_pop3_retrieved_messages_total", Help: "Messages sent by RETR and TOP.",
		}),
		retrievedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_pop3_retrieved_bytes_total", Help: "Bytes of messages sent by RETR and TOP, before byte-stuffing.",
		}),
		deletedMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_pop3_deleted_messages_total", Help: "Messages removed at QUIT after DELE.",
		}),
	}
	reg.MustRegister(m.commands, m.retrievedMessages, m.retrievedBytes, m.deletedMessages)
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
	if _, ok := commands[name]; !ok {
		name = "unknown"
	}
	m.commands.WithLabelValues(name, status).Inc()
}

func (m *Metrics) retrieved(size int64) {
	if m != nil {
		m.retrievedMessages.Inc()
		m.retrievedBytes.Add(float64(size))
	}
}

func (m *Metrics) deleted(n int) {
	if m != nil {
		m.deletedMessages.Add(float64(n))
	}
}

package smtpserver

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/netserver"
)

// Metrics are the inbound SMTP metrics. A nil *Metrics records nothing.
type Metrics struct {
	// conns counts connections in the connection layer (netserver): accepted, open and
	// refused by the connection limits, as posthorn_PROTO_connections_total,
	// posthorn_PROTO_connections_active and posthorn_PROTO_connections_refused_total. A
	// connection the connection filter refuses is none of these.
	conns           *netserver.Metrics
	messages        prometheus.Counter
	rejections      *prometheus.CounterVec
	bytes           prometheus.Counter
	latency         prometheus.Histogram
	receivedHeaders prometheus.Histogram
}

// NewMetrics creates the metrics of the MX and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics { return newMetrics(reg, "smtp", "Inbound SMTP") }

// NewSubmissionMetrics creates the same metrics for the submission listeners, named
// posthorn_submission_*, and registers them with reg.
func NewSubmissionMetrics(reg prometheus.Registerer) *Metrics {
	return newMetrics(reg, "submission", "Submission")
}

func newMetrics(reg prometheus.Registerer, proto, what string) *Metrics {
	name := func(n string) string { return "posthorn_" + proto + "_" + n }
	m := &Metrics{
		conns: netserver.NewMetrics(reg, proto, what),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("messages_received_total"), Help: "Messages accepted (250) and stored.",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("messages_rejected_total"), Help: "Recipients or messages refused, by reason.",
		}, []string{"reason"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("received_bytes_total"), Help: "Bytes of accepted messages.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    name("delivery_seconds"),
			Help:    "Time from the start of DATA to the durable commit of a message.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		receivedHeaders: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    name("received_headers"),
			Help:    "Received headers per accepted message, ours included.",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 34, 50},
		}),
	}
	reg.MustRegister(m.messages, m.rejections, m.bytes, m.latency, m.receivedHeaders)
	return m
}

// connections is what the connection layer counts into; nil records nothing.
func (m *Metrics) connections() *netserver.Metrics {
	if m == nil {
		return nil
	}
	return m.conns
}

func (m *Metrics) rejected(reason string) {
	if m != nil {
		m.rejections.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) received(size int64, receivedHeaders int, took time.Duration) {
	if m != nil {
		m.messages.Inc()
		m.bytes.Add(float64(size))
		m.latency.Observe(took.Seconds())
		m.receivedHeaders.Observe(float64(receivedHeaders))
	}
}

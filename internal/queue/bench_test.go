package queue

import (
	"fmt"
	"testing"

	"posthorn/internal/store"
)

// BenchmarkDeliver measures the queue's throughput from a full queue to a loopback sink: b.N
// messages to 10 domains, one recipient each.
func BenchmarkDeliver(b *testing.B) {
	port := loopbackPort(b)
	zone := map[string][]string{"mx.sink.example.": {"mx.sink.example. 300 IN A 127.0.0.1"}}
	for i := range 10 {
		d := fmt.Sprintf("d%d.example.", i)
		zone[d] = []string{d + " 300 IN MX 10 mx.sink.example."}
	}
	h := newHarness(b, port, zone)
	sink := startSink(b, at("127.0.0.1", port), nil, nil)
	for i := range b.N {
		h.enqueue("alice@example.org", fmt.Sprintf("bench %d", i),
			store.Outbound{Recipient: fmt.Sprintf("r%d@d%d.example", i, i%10)})
	}
	b.ResetTimer()
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	b.StopTimer()
	if n := len(sink.transactions()); n != b.N {
		b.Fatalf("%d transactions, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

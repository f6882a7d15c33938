package postgres

import (
	"fmt"
	"testing"

	"posthorn/internal/store"
)

// BenchmarkDeliver measures Deliver of batches of messages to one INBOX, as the group commit
// of internal/delivery sends them; the figure is per message.
func BenchmarkDeliver(b *testing.B) {
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprint("batch", batch), func(b *testing.B) {
			s := openURL(b, server.Database(b))
			if _, err := s.AddDomain(b.Context(), "example.org"); err != nil {
				b.Fatal(err)
			}
			acc, err := s.AddAccount(b.Context(), "alice@example.org", "hash")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			b.ResetTimer()
			for b.Loop() {
				ds := make([]store.Delivery, batch)
				for i := range ds {
					n++
					ds[i] = store.Delivery{BlobID: fmt.Sprint("b", n), Size: 1000, Envelope: []byte("envelope"),
						Structure: []byte("structure"), Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}}
				}
				if _, err := s.Deliver(b.Context(), ds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/message")
		})
	}
}

package bodystoretest

import (
	"context"
	"io"
	"testing"

	"posthorn/internal/bodystore"
)

// BenchSize is the size of the bodies Benchmark writes and reads: a message with a small
// attachment.
const BenchSize = 100 << 10

// Benchmark measures a backend with bodies of BenchSize octets: "write-1" creates, writes and
// syncs one body at a time (a lone delivery), "write-8" eight per SyncAll (group commit of
// concurrent deliveries), "read" opens a committed body and reads it whole through io.Copy's
// 32 KiB reads (POP3 RETR, the queue). Bytes per second count the bodies' octets; open returns
// a new, empty store, closed when b ends.
func Benchmark(b *testing.B, open func(b testing.TB) bodystore.Store) {
	data := content(BenchSize, 42)
	for _, batch := range []int{1, 8} {
		name := map[int]string{1: "write-1", 8: "write-8"}[batch]
		b.Run(name, func(b *testing.B) {
			s := open(b)
			b.SetBytes(int64(batch * BenchSize))
			ws := make([]bodystore.Writer, batch)
			for b.Loop() {
				for i := range ws {
					ws[i] = write(b, s, data, 0)
				}
				if err := s.SyncAll(context.Background(), ws); err != nil {
					b.Fatal(err)
				}
				for _, w := range ws {
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "bodies/s")
		})
	}
	b.Run("read", func(b *testing.B) {
		s := open(b)
		ids := make([]string, 64)
		for i := range ids {
			ids[i] = commit(b, s, data)
		}
		b.SetBytes(BenchSize)
		i := 0
		for b.Loop() {
			body, err := s.Open(context.Background(), ids[i%len(ids)])
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, io.NewSectionReader(body, 0, BenchSize)); n != BenchSize || err != nil {
				b.Fatalf("read %d octets: %v", n, err)
			}
			if err := body.Close(); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bodies/s")
	})
}

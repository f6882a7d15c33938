package smtpserver

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"posthorn/internal/filter/filtertest"
	"posthorn/internal/testutil/clamdtest"
)

// BenchmarkIngestFilter measures durable SMTP intake of a 20 KiB DKIM-signed message with a
// PDF attachment over 20 pipelining connections, with the inbound filter off, on without clamd,
// and on with every check (clamd included), in one run so the figures compare. DNS answers
// from memory (filtertest), so the cost measured is posthorn's and clamd's.
//
//	go test ./internal/smtpserver -run '^$' -bench IngestFilter -benchtime 3s
func BenchmarkIngestFilter(b *testing.B) {
	clamd := clamdtest.Start(b)
	for _, mode := range []string{"off", "on-without-clamd", "on"} {
		b.Run("filter="+mode, func(b *testing.B) {
			f, msg := filtertest.New(b, clamd.Address, 20<<10)
			switch mode {
			case "off":
				f = nil
			case "on-without-clamd":
				f.Clamd = nil
			}
			h := newHarness(b, func(s *Server) {
				s.MaxMessageBytes = 1 << 20
				s.MaxConnections = 100
				s.Filter = f
			})
			benchmarkSend(b, h, append(msg, ".\r\n"...), 20)
		})
	}
}

// benchmarkSend sends b.N copies of msg over concurrency connections and reports messages/s.
func benchmarkSend(b *testing.B, h *harness, msg []byte, concurrency int) {
	clients := make([]*benchClient, concurrency)
	for i := range clients {
		clients[i] = dialBench(b, h.addr)
	}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for _, c := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := c.send(msg); err != nil {
					errs <- fmt.Errorf("send: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	for _, c := range clients {
		c.quit()
	}
}

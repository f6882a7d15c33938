package smtpserver

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"posthorn/internal/filter/filtertest"
	"posthorn/internal/testutil/clamdtest"
)

// BenchmarkIngestFilter measures durable SMTP intake of a DKIM-signed message with a PDF
// attachment (4 KiB and 100 KiB) over 20 pipelining connections, with the inbound filter off,
// on without clamd, and on with every check (clamd included), in one run so the figures
// compare. DNS answers from memory (filtertest), so the cost measured is posthorn's and
// clamd's. cpu-ms/msg is this process's CPU time (server and clients; clamd's is not in it).
//
//	go test ./internal/smtpserver -run '^$' -bench IngestFilter -benchtime 3s
func BenchmarkIngestFilter(b *testing.B) {
	clamd := clamdtest.Start(b)
	for _, size := range []struct {
		name  string
		bytes int
	}{{"4KiB", 4 << 10}, {"100KiB", 100 << 10}} {
		for _, mode := range []string{"off", "on-without-clamd", "on"} {
			b.Run("size="+size.name+"/filter="+mode, func(b *testing.B) {
				benchmarkIngestFilter(b, clamd.Address, size.bytes, mode)
			})
		}
	}
}

func benchmarkIngestFilter(b *testing.B, clamd string, size int, mode string) {
	f, msg := filtertest.New(b, clamd, size)
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
}

// benchmarkSend sends b.N copies of msg over concurrency connections and reports messages/s.
func benchmarkSend(b *testing.B, h *harness, msg []byte, concurrency int) {
	clients := make([]*benchClient, concurrency)
	for i := range clients {
		clients[i] = dialBench(b, h.addr)
	}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	cpu := cpuTime()
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
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/msg")
	for _, c := range clients {
		c.quit()
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

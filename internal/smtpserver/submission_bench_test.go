package smtpserver

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// BenchmarkSubmission compares durable messages per second through submission (AUTH PLAIN once
// per connection, ownership checks, sending-limit lookups, Message-ID/Date added, RSA-2048 and
// Ed25519 DKIM signatures, a spool and a final blob) with the MX path, driven by the same go-smtp
// client over loopback, in the same run. Local recipients only: the queue is not involved.
//
//	go test ./internal/smtpserver -run '^$' -bench Submission -benchtime 3s
func BenchmarkSubmission(b *testing.B) {
	msg := strings.TrimSuffix(string(benchMessage(4<<10)), ".\r\n")
	msg = strings.Replace(msg, "From: <load@remote.example>", "From: <alice@example.org>", 1)
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("path=mx/conc=%d", conc), func(b *testing.B) {
			h := newHarness(b, func(s *Server) { s.MaxConnections = conc + 10 })
			benchmarkClients(b, h.addr, conc, nil, "load@remote.example", msg)
		})
		b.Run(fmt.Sprintf("path=submission/conc=%d", conc), func(b *testing.B) {
			sh := newSubmissionHarness(b, func(s *Submission) { s.PerHour, s.PerDay = 0, 0 })
			benchmarkClients(b, sh.addr, conc, sasl.NewPlainClient("", "alice@example.org", "alice password"),
				"alice@example.org", msg)
		})
	}
}

// benchmarkClients sends b.N messages to bob over conc connections, each authenticated with
// auth when it is not nil.
func benchmarkClients(b *testing.B, addr string, conc int, auth sasl.Client, from, msg string) {
	clients := make([]*gosmtp.Client, conc)
	for i := range clients {
		c, err := gosmtp.Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Hello("bench.example"); err != nil {
			b.Fatal(err)
		}
		if auth != nil {
			if err := c.Auth(auth); err != nil {
				b.Fatal(err)
			}
		}
		clients[i] = c
		defer c.Close()
	}
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := c.SendMail(from, []string{"bob@example.org"}, strings.NewReader(msg)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

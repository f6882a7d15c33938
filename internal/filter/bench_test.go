package filter_test

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"posthorn/internal/filter"
	"posthorn/internal/filter/filtertest"
	"posthorn/internal/testutil/clamdtest"
)

// BenchmarkVerdict times the whole verdict of one 20 KiB message (a DKIM-signed text with a
// PDF attachment) with every check on: DNSBL at EHLO, SPF and iprev at MAIL FROM, the rates at
// RCPT, and at the end of data DKIM (RSA and Ed25519), ARC, DMARC, the spam classifier, the
// attachment policy and Debian's clamd over its Unix socket; the same again without clamd, to
// tell its share. DNS answers from memory, so the figure is the filter's own cost. It reports
// the median and 99th percentile per message.
//
//	go test ./internal/filter -run '^$' -bench Verdict -benchtime 2000x
func BenchmarkVerdict(b *testing.B) {
	clamd := clamdtest.Start(b)
	for _, withClamd := range []bool{true, false} {
		name := "all-checks"
		if !withClamd {
			name = "without-clamd"
		}
		b.Run(name, func(b *testing.B) {
			f, msg := filtertest.New(b, clamd.Address, 20<<10)
			if !withClamd {
				f.Clamd = nil
			}
			benchmarkVerdict(b, f, msg)
		})
	}
}

func benchmarkVerdict(b *testing.B, f *filter.Filter, msg []byte) {
	ip := net.ParseIP(filtertest.ClientIP)
	check := func() filter.Verdict {
		ctx := context.Background()
		if v := f.Hello(ctx, ip); v.Action != filter.Accept {
			b.Fatalf("hello: %+v", v)
		}
		tx := f.Mail(ctx, filter.Envelope{IP: ip, HELO: "mail.remote.example", From: filtertest.Sender})
		defer tx.Close()
		if v := tx.Rcpt(ctx, "alice@example.org"); v.Action != filter.Accept {
			b.Fatalf("rcpt: %+v", v)
		}
		return tx.Data(ctx, bytes.NewReader(msg), int64(len(msg)), []int64{1})
	}
	v := check()
	if v.Action != filter.Accept || v.Mailbox(1) != "INBOX" || !strings.Contains(v.AuthResults, "dkim=pass") ||
		!strings.Contains(v.AuthResults, "dmarc=pass") || !strings.Contains(v.AuthResults, "spf=pass") {
		b.Fatalf("verdict: %+v", v)
	}
	times := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		check()
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
}

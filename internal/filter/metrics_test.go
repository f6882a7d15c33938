package filter

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsCountVerdictsAndReasons(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	f := &Filter{Logger: discard(), Metrics: m, Limits: &RateLimits{RecipientsPerIP: 1},
		Auth: &fakeAuth{result: MessageAuth{DMARC: "fail", Policy: "quarantine"}}}
	tx := f.Mail(context.Background(), Envelope{IP: net.ParseIP("192.0.2.1"), From: "a@example.net"})
	tx.RcptAttempt() // accepted, no finding: not counted
	tx.RcptAttempt() // over the rate
	msg := "Subject: x\r\n\r\nx\r\n"
	tx.Data(context.Background(), strings.NewReader(msg), int64(len(msg)), []int64{1})
	tx.Close()
	for _, c := range []struct {
		metric prometheus.Collector
		want   string
	}{
		{m.verdicts, `
# HELP posthorn_filter_verdicts_total Inbound filter verdicts, by stage (connect, rcpt, data) and action (accept, junk, tempfail, reject).
# TYPE posthorn_filter_verdicts_total counter
posthorn_filter_verdicts_total{action="junk",stage="data"} 1
posthorn_filter_verdicts_total{action="tempfail",stage="rcpt"} 1
`},
		{m.reasons, `
# HELP posthorn_filter_reasons_total Findings of the inbound filter, by the action of the verdict they were part of and reason.
# TYPE posthorn_filter_reasons_total counter
posthorn_filter_reasons_total{action="junk",reason="dmarc-quarantine"} 1
posthorn_filter_reasons_total{action="tempfail",reason="recipient-rate"} 1
`},
	} {
		if err := testutil.CollectAndCompare(c.metric, strings.NewReader(c.want)); err != nil {
			t.Error(err)
		}
	}
}

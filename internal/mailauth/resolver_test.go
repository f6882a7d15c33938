package mailauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net"
	"regexp"
	"testing"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/testutil/dnstest"
)

// TestProductionResolver runs the checks through dns.New against a real DNS server on
// loopback, so the error kinds of Go's resolver (NXDOMAIN, empty answers, SERVFAIL, timeouts)
// reach the checks as they do in production.
func TestProductionResolver(t *testing.T) {
	pub := base64.StdEncoding.EncodeToString(testKey.Public().(ed25519.PublicKey))
	srv := dnstest.Start(t, map[string][]string{
		"example.com.": {`example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
			"example.com. 300 IN MX 10 mail.example.com."},
		"_dmarc.example.com.":         {`_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"`},
		"sel._domainkey.example.com.": {`sel._domainkey.example.com. 300 IN TXT "v=DKIM1; k=ed25519; p=` + pub + `"`},
		"mail.example.com.":           {"mail.example.com. 300 IN A 192.0.2.1"},
		"1.2.0.192.in-addr.arpa.":     {"1.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com."},
		"nospf.example.":              {"nospf.example. 300 IN A 192.0.2.9"},
	})
	srv.SetFailure("broken.example.", dnstest.ServFail)
	srv.SetFailure("_dmarc.slow.example.", dnstest.Timeout)
	v := &Verifier{Resolver: dns.New(srv.Addr), Hostname: "mx.posthorn.test"}
	ctx := context.Background()

	for _, tc := range []struct {
		ip, from string
		want     Status
	}{
		{"192.0.2.1", "a@example.com", StatusPass},
		{"198.51.100.1", "a@example.com", StatusFail},
		{"192.0.2.1", "a@nospf.example", StatusNone},   // a name without TXT records
		{"192.0.2.1", "a@missing.example", StatusNone}, // NXDOMAIN
		{"192.0.2.1", "a@broken.example", StatusTempError},
	} {
		if got := v.SPF(ctx, net.ParseIP(tc.ip), "client.example", tc.from); got.Status != tc.want {
			t.Errorf("SPF %s %s: %s (%s), want %s", tc.ip, tc.from, got.Status, got.Reason, tc.want)
		}
	}
	if got := v.IPRev(ctx, net.ParseIP("192.0.2.1")); got.Status != StatusPass || got.Name != "mail.example.com" {
		t.Errorf("iprev: %+v", got)
	}
	if got := v.IPRev(ctx, net.ParseIP("192.0.2.2")); got.Status != StatusFail {
		t.Errorf("iprev without PTR: %+v", got)
	}

	msg := sign(t, testMessage("a@example.com"), "example.com")
	spf := v.SPF(ctx, net.ParseIP("198.51.100.1"), "client.example", "a@example.com")
	res := v.Message(ctx, spf, bytes.NewReader(msg), int64(len(msg)))
	if len(res.DKIM) != 1 || res.DKIM[0].Status != StatusPass || res.DMARC.Status != StatusPass {
		t.Errorf("signed message: dkim %+v dmarc %+v", res.DKIM, res.DMARC)
	}

	// The DMARC lookup of slow.example never gets an answer: temperror within the deadline.
	slow := []byte(testMessage("a@slow.example"))
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res = v.Message(tctx, SPFResult{Status: StatusNone}, bytes.NewReader(slow), int64(len(slow)))
	if res.DMARC.Status != StatusTempError {
		t.Errorf("unanswered DMARC lookup: %+v", res.DMARC)
	}
}

// The resolver's address never reaches a result's reason (and so the header).
func TestReasonsHideResolver(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{})
	srv.SetFailure("broken.example.", dnstest.ServFail)
	v := &Verifier{Resolver: dns.New(srv.Addr), Hostname: "mx.posthorn.test"}
	res := v.SPF(context.Background(), net.ParseIP("192.0.2.1"), "client.example", "a@broken.example")
	if res.Status != StatusTempError {
		t.Fatalf("%+v", res)
	}
	// Go's resolver names the server it asked: "lookup x on 10.0.0.53:53: ...".
	h := Results{SPF: res}.Header(v.Hostname)
	if regexp.MustCompile(` on [0-9a-fA-F.:\[\]]+:[0-9]+`).MatchString(h) {
		t.Errorf("resolver address in %q", h)
	}
}

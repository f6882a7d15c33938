package dnstest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/testutil/dnstest"
)

func TestServerAnswersThroughResolver(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"example.org.": {
			"example.org. 300 IN MX 10 mx.example.org.",
			`example.org. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"`,
		},
		"mx.example.org.": {"mx.example.org. 300 IN A 192.0.2.25"},
		// A TXT record longer than 512 octets in all: the UDP answer is truncated and the
		// resolver must retry over TCP.
		"long.example.org.": {`long.example.org. 300 IN TXT "` + strings.Repeat("a", 250) + `" "` + strings.Repeat("b", 250) + `" "` + strings.Repeat("c", 250) + `"`},
	})
	srv.SetFailure("broken.example.org", dnstest.ServFail)
	r := dns.New(srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	mxs, err := r.LookupMX(ctx, "example.org")
	if err != nil || len(mxs) != 1 || mxs[0].Host != "mx.example.org." || mxs[0].Pref != 10 {
		t.Fatalf("MX = %v, %v", mxs, err)
	}
	txts, err := r.LookupTXT(ctx, "example.org")
	if err != nil || len(txts) != 1 || txts[0] != "v=spf1 ip4:192.0.2.1 -all" {
		t.Fatalf("TXT = %q, %v", txts, err)
	}
	ips, err := r.LookupIPAddr(ctx, "mx.example.org")
	if err != nil || len(ips) != 1 || ips[0].IP.String() != "192.0.2.25" {
		t.Fatalf("A = %v, %v", ips, err)
	}
	long, err := r.LookupTXT(ctx, "long.example.org")
	if err != nil || len(long) != 1 || len(long[0]) != 750 {
		t.Fatalf("long TXT: %d records, %v", len(long), err)
	}
	if _, err := r.LookupTXT(ctx, "missing.example.org"); !dns.IsNotFound(err) {
		t.Fatalf("missing name: err = %v, want not found", err)
	}
	if _, err := r.LookupTXT(ctx, "broken.example.org"); err == nil || dns.IsNotFound(err) || !dns.IsTemporary(err) {
		t.Fatalf("SERVFAIL: err = %v, want a temporary error", err)
	}
}

package dns_test

import (
	"testing"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/testutil/dnstest"
)

func TestNewValidatingTrustsOnlyLoopback(t *testing.T) {
	if r := dns.NewValidating("192.0.2.1:53"); r != nil {
		t.Error("a resolver across the network was trusted for DNSSEC")
	}
	if r := dns.NewValidating("127.0.0.1:53"); r == nil {
		t.Error("a loopback resolver was not trusted for DNSSEC")
	}
	if r := dns.NewValidating("[::1]:53"); r == nil {
		t.Error("an IPv6 loopback resolver was not trusted for DNSSEC")
	}
}

// TestValidatingAuthenticated: each answer reports the AD bit of the resolver's answer, for
// records and for their absence; REFUSED and SERVFAIL are temporary errors.
func TestValidatingAuthenticated(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"signed.example.": {
			"signed.example. 300 IN MX 20 mx2.signed.example.",
			"signed.example. 300 IN MX 10 mx1.signed.example.",
		},
		"mx1.signed.example.":  {"mx1.signed.example. 300 IN A 192.0.2.1", "mx1.signed.example. 300 IN AAAA 2001:db8::1"},
		"mx2.signed.example.":  {"mx2.signed.example. 300 IN A 192.0.2.2"},
		"unsigned.example.":    {"unsigned.example. 300 IN MX 10 mx.unsigned.example."},
		"mx.unsigned.example.": {"mx.unsigned.example. 300 IN A 192.0.2.3"},
		"_25._tcp.mx1.signed.example.": {"_25._tcp.mx1.signed.example. 300 IN TLSA 3 1 1 " +
			"0101010101010101010101010101010101010101010101010101010101010101",
			// Usage 1 (PKIX-EE) is not for SMTP (RFC 7672 §3.1.3): ignored.
			"_25._tcp.mx1.signed.example. 300 IN TLSA 1 1 1 " +
				"0202020202020202020202020202020202020202020202020202020202020202"},
		"_25._tcp.mx.unsigned.example.": {"_25._tcp.mx.unsigned.example. 300 IN TLSA 3 1 1 " +
			"0303030303030303030303030303030303030303030303030303030303030303"},
	})
	srv.SetSecure("signed.example", "mx1.signed.example", "_25._tcp.mx1.signed.example", "missing.signed.example")
	srv.SetFailure("_25._tcp.mx2.signed.example", dnstest.Refused)
	srv.SetFailure("broken.signed.example", dnstest.ServFail)
	r := &dns.Validating{Server: srv.Addr, Timeout: 5 * time.Second}
	ctx := t.Context()

	mxs, authentic, err := r.LookupMXSecure(ctx, "signed.example")
	if err != nil || !authentic || len(mxs) != 2 || mxs[0].Host != "mx1.signed.example." || mxs[1].Pref != 20 {
		t.Errorf("signed MX = %v, %v, %v", mxs, authentic, err)
	}
	if mxs, authentic, err := r.LookupMXSecure(ctx, "unsigned.example"); err != nil || authentic || len(mxs) != 1 {
		t.Errorf("unsigned MX = %v, %v, %v", mxs, authentic, err)
	}
	if _, authentic, err := r.LookupMXSecure(ctx, "missing.signed.example"); !dns.IsNotFound(err) || !authentic {
		t.Errorf("authenticated NXDOMAIN = %v, %v; want not found, authentic", authentic, err)
	}
	if _, _, err := r.LookupMXSecure(ctx, "mx1.signed.example"); !dns.IsNotFound(err) {
		t.Errorf("NODATA: %v, want not found", err)
	}
	if _, authentic, err := r.LookupMXSecure(ctx, "broken.signed.example"); !dns.IsTemporary(err) || authentic {
		t.Errorf("SERVFAIL = %v, %v; want a temporary error", authentic, err)
	}

	addrs, authentic, err := r.LookupIPAddrSecure(ctx, "mx1.signed.example")
	if err != nil || !authentic || len(addrs) != 2 || addrs[0].IP.String() != "192.0.2.1" || addrs[1].IP.String() != "2001:db8::1" {
		t.Errorf("signed addresses = %v, %v, %v", addrs, authentic, err)
	}
	if addrs, authentic, err := r.LookupIPAddrSecure(ctx, "mx2.signed.example"); err != nil || authentic || len(addrs) != 1 {
		t.Errorf("unsigned addresses = %v, %v, %v", addrs, authentic, err)
	}

	records, authentic, err := r.LookupTLSA(ctx, "mx1.signed.example", 25)
	if err != nil || !authentic || len(records) != 1 || records[0].CertAssoc[0] != 1 {
		t.Errorf("signed TLSA = %v, %v, %v", records, authentic, err)
	}
	// Records without AD are not returned: RFC 7672 §2.2 has them ignored.
	if records, authentic, err := r.LookupTLSA(ctx, "mx.unsigned.example", 25); err != nil || authentic || records != nil {
		t.Errorf("unsigned TLSA = %v, %v, %v; want nothing authentic", records, authentic, err)
	}
	if records, _, err := r.LookupTLSA(ctx, "missing.example", 25); err != nil || records != nil {
		t.Errorf("NXDOMAIN TLSA = %v, %v; want none, no error", records, err)
	}
	if _, _, err := r.LookupTLSA(ctx, "mx2.signed.example", 25); err == nil {
		t.Error("REFUSED TLSA: no error")
	}
}

package admin

import (
	"strings"
	"testing"

	"posthorn/internal/dns"
	"posthorn/internal/testutil/dnstest"
)

func TestCheckDNS(t *testing.T) {
	longKey := strings.Repeat("A", 300)
	srv := dnstest.Start(t, map[string][]string{
		"example.org.": {
			"example.org. 300 IN MX 20 MX.example.org.",
			`example.org. 300 IN TXT "v=spf1 a -all"`,
			`example.org. 300 IN TXT "google-site-verification=abc"`,
		},
		"s1._domainkey.example.org.": {`s1._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; p=` + longKey[:200] + `" "` + longKey[200:] + `"`},
		"mta-sts.example.org.":       {"mta-sts.example.org. 300 IN CNAME mx.example.org."},
		"autoconfig.example.org.":    {"autoconfig.example.org. 300 IN A 192.0.2.7"},
		"_imaps._tcp.example.org.":   {"_imaps._tcp.example.org. 300 IN SRV 0 1 993 mx.example.org."},
		"_pop3._tcp.example.org.":    {"_pop3._tcp.example.org. 300 IN SRV 0 0 0 ."},
		"_imap._tcp.example.org.":    {"_imap._tcp.example.org. 300 IN SRV 0 1 1143 mx.example.org."},
		"_mta-sts.example.org.":      {`_mta-sts.example.org. 300 IN TXT "v=STSv1; id=old"`},
	})
	srv.SetFailure("_smtp._tls.example.org.", dnstest.ServFail)
	a := &Admin{Resolver: dns.New(srv.Addr)}

	records := []DNSRecord{
		{Name: "example.org.", Type: "MX", Value: "10 mx.example.org."},
		{Name: "example.org.", Type: "TXT", Value: `"v=spf1 mx -all"`},
		{Name: "s1._domainkey.example.org.", Type: "TXT", Value: `( "v=DKIM1; k=rsa; p=` + longKey[:255-len("v=DKIM1; k=rsa; p=")] + `"` + "\n   " + `"` + longKey[255-len("v=DKIM1; k=rsa; p="):] + `" )`},
		{Name: "_dmarc.example.org.", Type: "TXT", Value: `"v=DMARC1; p=quarantine"`},
		{Name: "_mta-sts.example.org.", Type: "TXT", Value: `"v=STSv1; id=new"`},
		{Name: "_smtp._tls.example.org.", Type: "TXT", Value: `"v=TLSRPTv1; rua=mailto:postmaster@example.org"`},
		{Name: "mta-sts.example.org.", Type: "CNAME", Value: "mx.example.org."},
		{Name: "autoconfig.example.org.", Type: "CNAME", Value: "mx.example.org."},
		{Name: "autodiscover.example.org.", Type: "CNAME", Value: "mx.example.org."},
		{Name: "_imaps._tcp.example.org.", Type: "SRV", Value: "0 1 993 mx.example.org."},
		{Name: "_imap._tcp.example.org.", Type: "SRV", Value: "0 1 143 mx.example.org."},
		{Name: "_pop3._tcp.example.org.", Type: "SRV", Value: "0 0 0 ."},
		{Name: "_submissions._tcp.example.org.", Type: "SRV", Value: "0 1 465 mx.example.org."},
	}
	want := []struct {
		status DNSStatus
		found  string
	}{
		{DNSPublished, "20 mx.example.org."},
		{DNSDifferent, `"v=spf1 a -all"`}, // the site verification TXT is not SPF
		{DNSPublished, `"v=DKIM1; k=rsa; p=` + longKey + `"`},
		{DNSMissing, ""},
		{DNSDifferent, `"v=STSv1; id=old"`},
		{DNSLookupFailed, ""},
		{DNSPublished, "mx.example.org."},
		{DNSDifferent, "A 192.0.2.7"},
		{DNSMissing, ""},
		{DNSPublished, "0 1 993 mx.example.org."},
		{DNSDifferent, "0 1 1143 mx.example.org."},
		{DNSPublished, "0 0 0 ."},
		{DNSMissing, ""},
	}
	ctx := t.Context()
	checks, err := a.CheckDNS(ctx, records)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range checks {
		if c.Status != want[i].status || strings.Join(c.Found, " | ") != want[i].found {
			t.Errorf("%s %s: %s %q (%s), want %s %q", c.Record.Name, c.Record.Type, c.Status, c.Found, c.Error,
				want[i].status, want[i].found)
		}
	}
	if checks[5].Error == "" {
		t.Error("a failed lookup does not say why")
	}

	// What the resolver returns now: publishing a record changes the answer.
	srv.Add(t, `_dmarc.example.org. 300 IN TXT "v=DMARC1;  p=quarantine"`)
	checks, err = a.CheckDNS(ctx, records[3:4])
	if err != nil {
		t.Fatal(err)
	}
	if checks[0].Status != DNSPublished {
		t.Fatalf("after publishing: %s %q", checks[0].Status, checks[0].Found)
	}

	if _, err := (&Admin{}).CheckDNS(ctx, records); err == nil {
		t.Fatal("no resolver accepted")
	}
}

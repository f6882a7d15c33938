package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"posthorn/internal/testutil/dnstest"
)

// TestDomainDNSCheck: "domain dns --check" looks up every record "domain dns" prints through
// the configured resolver, fails while one is not published, and passes once the zone holds
// exactly what it printed.
func TestDomainDNSCheck(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"example.org.": {"example.org. 300 IN MX 10 mx.example.org.", `example.org. 300 IN TXT "v=spf1 a -all"`},
	})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "posthorn.toml")
	useResolver := func(addr string) {
		text := "data_dir = \"" + filepath.Join(dir, "data") + "\"\nhostname = \"mx.example.org\"\n[dns]\nresolver = \"" + addr + "\"\n"
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	useResolver(srv.Addr)
	if code, _, errOut := run(t, "-c", cfg, "domain", "add", "example.org"); code != 0 {
		t.Fatalf("domain add: %s", errOut)
	}

	code, out, errOut := run(t, "-c", cfg, "domain", "dns", "example.org", "--check")
	if code == 0 || !strings.Contains(errOut, "not published") {
		t.Fatalf("check with records missing: exit %d, %s", code, errOut)
	}
	for _, want := range []string{
		`(?m)^published +MX +example\.org\.$`,
		`(?m)^different +TXT +example\.org\.\n +want "v=spf1 mx -all"\n +found "v=spf1 a -all"$`,
		`(?m)^missing +TXT +_dmarc\.example\.org\.$`,
		`(?m)^missing +TXT +[^ ]+\._domainkey\.example\.org\.$`,
		`(?m)^missing +TXT +_mta-sts\.example\.org\.\n +want "v=STSv1; id=`,
		`(?m)^missing +CNAME +autoconfig\.example\.org\.$`,
		`(?m)^missing +SRV +_imaps\._tcp\.example\.org\.$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("check output lacks %s:\n%s", want, out)
		}
	}

	// Publish the zone exactly as printed (replacing the wrong SPF record).
	code, zone, errOut := run(t, "-c", cfg, "domain", "dns", "example.org")
	if code != 0 {
		t.Fatalf("domain dns: %s", errOut)
	}
	srv = dnstest.Start(t, nil)
	zp := mdns.NewZoneParser(strings.NewReader(zone), "", "")
	records := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		srv.Add(t, rr.String())
		records++
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	useResolver(srv.Addr)
	code, out, errOut = run(t, "-c", cfg, "domain", "dns", "example.org", "--check")
	if code != 0 {
		t.Fatalf("check of the published zone: exit %d, %s\n%s", code, errOut, out)
	}
	if n := strings.Count(out, "published "); n != records || n < 14 {
		t.Fatalf("%d records published, %d printed:\n%s", n, records, out)
	}
}

package admin

import (
	"strings"
	"testing"

	"posthorn/internal/config"
)

// TestDNSRecordsSayWhereHTTPSIs: the purpose of the MTA-STS and autoconfiguration records names
// what serves them over https: listen.https (with the port to forward when it is not 443), or
// an https front before listen.http.
func TestDNSRecordsSayWhereHTTPSIs(t *testing.T) {
	a := newAdmin(t)
	if _, err := a.AddDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		listen config.Listen
		want   string
	}{
		{config.Listen{HTTP: ":8080"}, "serves on listen.http, behind an https front on port 443"},
		{config.Listen{HTTP: ":8080", HTTPS: ":443"}, "serves on listen.https (port 443)"},
		{config.Listen{HTTPS: "127.0.0.1:8443"}, "serves on listen.https (127.0.0.1:8443; senders and clients connect to port 443"},
	} {
		records, err := a.DNSRecords(t.Context(), "example.org", DNSSetup{Hostname: "mx.example.org", Listen: tc.listen})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"_mta-sts.example.org.", "autoconfig.example.org."} {
			found := false
			for _, r := range records {
				if r.Name == name {
					found = true
					if !strings.Contains(r.Purpose, tc.want) {
						t.Errorf("listen %+v: %s purpose %q, want %q in it", tc.listen, name, r.Purpose, tc.want)
					}
				}
			}
			if !found {
				t.Errorf("no record %s", name)
			}
		}
	}
}

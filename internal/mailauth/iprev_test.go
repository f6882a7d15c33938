package mailauth

import (
	"context"
	"net"
	"testing"
)

func TestIPRev(t *testing.T) {
	d := newFakeDNS()
	d.ptr["192.0.2.1"] = []string{"mail.example.com."}
	d.ip["mail.example.com"] = []net.IPAddr{{IP: net.ParseIP("192.0.2.1")}}
	d.ptr["192.0.2.2"] = []string{"liar.example.com.", "mail2.example.com."}
	d.ip["liar.example.com"] = []net.IPAddr{{IP: net.ParseIP("198.51.100.9")}}
	d.ip["mail2.example.com"] = []net.IPAddr{{IP: net.ParseIP("192.0.2.2")}}
	d.ptr["192.0.2.3"] = []string{"liar.example.com."}
	d.fail["192.0.2.4"] = timeoutError("4.2.0.192.in-addr.arpa")
	d.ptr["192.0.2.5"] = []string{"slow.example.com."}
	d.fail["slow.example.com"] = timeoutError("slow.example.com")
	d.ptr["2001:db8::1"] = []string{"v6.example.com."}
	d.ip["v6.example.com"] = []net.IPAddr{{IP: net.ParseIP("2001:db8::1")}}
	v := &Verifier{Resolver: d}
	for _, tc := range []struct {
		ip     string
		status Status
		name   string
	}{
		{"192.0.2.1", StatusPass, "mail.example.com"},
		{"192.0.2.2", StatusPass, "mail2.example.com"},
		{"192.0.2.3", StatusFail, ""},
		{"192.0.2.4", StatusTempError, ""},
		{"192.0.2.5", StatusTempError, ""},
		{"192.0.2.6", StatusFail, ""},
		{"2001:db8::1", StatusPass, "v6.example.com"},
	} {
		got := v.IPRev(context.Background(), net.ParseIP(tc.ip))
		if got.Status != tc.status || got.Name != tc.name {
			t.Errorf("%s: got %s %q (%s), want %s %q", tc.ip, got.Status, got.Name, got.Reason, tc.status, tc.name)
		}
	}
}

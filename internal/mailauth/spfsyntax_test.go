package mailauth

import (
	"context"
	"net"
	"testing"
)

func TestSPFSyntax(t *testing.T) {
	valid := []string{
		"v=spf1",
		"v=spf1 include:_spf.google.com ~all",
		"v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip6:2001:4860:4000::/36 ~all",
		"v=spf1 include:spf.protection.outlook.com -all",
		"v=spf1 redirect=_spf.facebook.com",
		"v=spf1 exists:%{i}._spf.mta.salesforce.com -all",
		"v=spf1 include:%{ir}.%{v}.%{d}.spf.has.pphosted.com ~all",
		"v=spf1 a mx ptr ?all",
		"V=SPF1 MX/24 A:mail.example.com/28 -ALL",
		"v=spf1 a//64 a/24//64 mx:example.com//48 -all",
		"v=spf1 +a +mx -all ",
		"v=spf1 ip4:192.0.2.0/24  -all",
		"v=spf1 -all exp=explain._spf.%{d}",
		"v=spf1 include:example.com. -all",
		"v=spf1 a:foo:bar/baz.example.com",
		"v=spf1 exists:%{l1r+-}.%{d2}.example.net moo=%{c}%_%%%-",
	}
	for _, r := range valid {
		if err := checkSPFSyntax(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
	invalid := []string{
		"v=spf1 ip4:192.0.2.0/33",
		"v=spf1 ip4:1.2.3.4/032",
		"v=spf1 ip6:192.0.2.1",
		"v=spf1 ip4",
		"v=spf1\tall",
		"v=spf1 a:example.-com",
		"v=spf1 a:1.2.3.4",
		"v=spf1 a:com",
		"v=spf1 include:",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 exp=a.example exp=b.example",
		"v=spf1 exists:%{c}.example.com",
		"v=spf1 exists:%{x}.example.com",
		"v=spf1 exists:%.example.com",
		"v=spf1 redirect:example.com",
		"v=spf1 all:foo",
		"v=spf1 -all Ω",
	}
	for _, r := range invalid {
		if err := checkSPFSyntax(r); err == nil {
			t.Errorf("%q: accepted", r)
		}
	}
}

// RFC 7208 §7.4's macro examples, for the transformers applied to %{p}.
func TestExpandMacroValue(t *testing.T) {
	for _, tc := range []struct {
		value, digits string
		reverse       bool
		delims, want  string
	}{
		{"email.example.com", "4", false, "", "email.example.com"},
		{"email.example.com", "2", false, "", "example.com"},
		{"email.example.com", "1", false, "", "com"},
		{"email.example.com", "", true, "", "com.example.email"},
		{"email.example.com", "2", true, "", "example.email"},
		{"strong-bad", "", false, "-", "strong.bad"},
		{"strong-bad", "", true, "-", "bad.strong"},
		{"strong-bad", "1", true, "-", "strong"},
	} {
		if got := expandMacroValue(tc.value, tc.digits, tc.reverse, tc.delims, false); got != tc.want {
			t.Errorf("%+v: got %q", tc, got)
		}
	}
	if got := expandMacroValue("a b/c", "", false, "", true); got != "a%20b%2Fc" {
		t.Errorf("escaped: %q", got)
	}
}

func TestSPFRewrite(t *testing.T) {
	d := newFakeDNS()
	d.ptr["192.0.2.1"] = []string{"other.example.", "mail.example.com."}
	d.ip["mail.example.com"] = []net.IPAddr{{IP: net.ParseIP("192.0.2.1")}}
	d.ip["other.example"] = []net.IPAddr{{IP: net.ParseIP("192.0.2.1")}}
	r := &spfResolver{r: d, ip: net.ParseIP("192.0.2.1")}
	in := "v=spf1 exists:%{p}.a.example %%{p} exists:%{p2r}.b.example a:x/y.example/24 mx:%{d}/z.example ~all"
	want := "v=spf1 exists:mail.example.com.a.example %%{p} exists:example.mail.b.example a:d0.spf-alias.invalid/24 mx:%{d}/z.example ~all"
	if got := r.rewrite(context.Background(), in, "example.com"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := r.unalias("D0.spf-alias.invalid."); got != "x/y.example" {
		t.Errorf("unalias: %q", got)
	}
}

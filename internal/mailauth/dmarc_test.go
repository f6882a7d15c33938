package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// testKey is a fixed Ed25519 key for signing test messages (RFC 8032 §7.1 test 1 seed).
var testKey = ed25519.NewKeyFromSeed(mustHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

// publishKey puts testKey's public key at selector._domainkey.domain.
func publishKey(d *fakeDNS, selector, domain string) {
	pub := testKey.Public().(ed25519.PublicKey)
	d.txt[selector+"._domainkey."+domain] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

// sign returns msg with a DKIM signature of domain added.
func sign(t testing.TB, msg, domain string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{
		Domain: domain, Selector: "sel", Signer: crypto.Signer(testKey),
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func testMessage(from string) string {
	return "From: " + from + "\r\nTo: bob@posthorn.test\r\nSubject: hello\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nHello.\r\n"
}

func TestDMARC(t *testing.T) {
	spfPass := func(domain string) SPFResult {
		return SPFResult{Status: StatusPass, Identity: "mailfrom", Domain: domain, MailFrom: "b@" + domain}
	}
	tests := []struct {
		name    string
		records map[string]string // _dmarc name -> record
		fail    string            // a name whose lookups fail temporarily
		spf     SPFResult
		msg     string
		signer  string // DKIM-sign as this domain
		percent int
		status  Status
		policy  Policy
		spfAl   bool
		dkimAl  bool
	}{
		{name: "spf relaxed alignment", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			spf: spfPass("bounce.example.com"), msg: testMessage("a@example.com"), status: StatusPass, policy: PolicyNone, spfAl: true},
		{name: "spf strict alignment fails", records: map[string]string{"example.com": "v=DMARC1; p=reject; aspf=s"},
			spf: spfPass("bounce.example.com"), msg: testMessage("a@example.com"), status: StatusFail, policy: PolicyReject},
		{name: "spf strict alignment exact", records: map[string]string{"example.com": "v=DMARC1; p=reject; aspf=s"},
			spf: spfPass("example.com"), msg: testMessage("a@example.com"), status: StatusPass, policy: PolicyNone, spfAl: true},
		{name: "spf unrelated domain", records: map[string]string{"example.com": "v=DMARC1; p=quarantine"},
			spf: spfPass("other.example"), msg: testMessage("a@example.com"), status: StatusFail, policy: PolicyQuarantine},
		{name: "spf public suffix is not an organisation", records: map[string]string{"alice.co.uk": "v=DMARC1; p=reject"},
			spf: spfPass("bob.co.uk"), msg: testMessage("a@alice.co.uk"), status: StatusFail, policy: PolicyReject},
		{name: "dkim aligned", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			spf: spfPass("other.example"), msg: testMessage("a@example.com"), signer: "example.com", status: StatusPass, policy: PolicyNone, dkimAl: true},
		{name: "dkim relaxed subdomain", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			msg: testMessage("a@example.com"), signer: "mail.example.com", status: StatusPass, policy: PolicyNone, dkimAl: true},
		{name: "dkim strict subdomain fails", records: map[string]string{"example.com": "v=DMARC1; p=reject; adkim=s"},
			msg: testMessage("a@example.com"), signer: "mail.example.com", status: StatusFail, policy: PolicyReject},
		{name: "dkim unaligned signer", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			msg: testMessage("a@example.com"), signer: "list.example", status: StatusFail, policy: PolicyReject},
		{name: "sp for subdomain from organisational record", records: map[string]string{"example.com": "v=DMARC1; p=reject; sp=quarantine"},
			msg: testMessage("a@news.example.com"), status: StatusFail, policy: PolicyQuarantine},
		{name: "p for subdomain without sp", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			msg: testMessage("a@news.example.com"), status: StatusFail, policy: PolicyReject},
		{name: "subdomain record wins over sp", records: map[string]string{"example.com": "v=DMARC1; p=reject; sp=none", "news.example.com": "v=DMARC1; p=quarantine"},
			msg: testMessage("a@news.example.com"), status: StatusFail, policy: PolicyQuarantine},
		{name: "pct selects", records: map[string]string{"example.com": "v=DMARC1; p=reject; pct=50"},
			msg: testMessage("a@example.com"), percent: 49, status: StatusFail, policy: PolicyReject},
		{name: "pct does not select reject", records: map[string]string{"example.com": "v=DMARC1; p=reject; pct=50"},
			msg: testMessage("a@example.com"), percent: 50, status: StatusFail, policy: PolicyQuarantine},
		{name: "pct does not select quarantine", records: map[string]string{"example.com": "v=DMARC1; p=quarantine; pct=10"},
			msg: testMessage("a@example.com"), percent: 10, status: StatusFail, policy: PolicyNone},
		{name: "pct=0", records: map[string]string{"example.com": "v=DMARC1; p=reject; pct=0"},
			msg: testMessage("a@example.com"), percent: 0, status: StatusFail, policy: PolicyQuarantine},
		{name: "no record", msg: testMessage("a@example.com"), status: StatusNone, policy: PolicyNone},
		{name: "other TXT records ignored", records: map[string]string{"example.com": "google-site-verification=abc"},
			msg: testMessage("a@example.com"), status: StatusNone, policy: PolicyNone},
		{name: "lookup temperror", fail: "_dmarc.example.com", msg: testMessage("a@example.com"), status: StatusTempError, policy: PolicyNone},
		{name: "aligned spf temperror", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			spf: SPFResult{Status: StatusTempError, Domain: "example.com"}, msg: testMessage("a@example.com"), status: StatusTempError, policy: PolicyNone},
		{name: "invalid policy", records: map[string]string{"example.com": "v=DMARC1; p=bounce"},
			msg: testMessage("a@example.com"), status: StatusPermError, policy: PolicyNone},
		{name: "invalid policy with rua is none", records: map[string]string{"example.com": "v=DMARC1; p=bounce; rua=mailto:d@example.com"},
			msg: testMessage("a@example.com"), status: StatusFail, policy: PolicyNone},
		{name: "multiple From fields", records: map[string]string{"example.com": "v=DMARC1; p=none"},
			msg: "From: a@example.com\r\n" + testMessage("a@example.com"), status: StatusFail, policy: PolicyReject},
		{name: "From with two domains", records: map[string]string{"example.com": "v=DMARC1; p=none"},
			msg: testMessage("a@example.com, b@evil.example"), status: StatusFail, policy: PolicyReject},
		{name: "display name and case", records: map[string]string{"example.com": "v=DMARC1; p=reject"},
			spf: spfPass("Example.COM"), msg: testMessage(`"Alice" <alice@EXAMPLE.com>`), status: StatusPass, policy: PolicyNone, spfAl: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDNS()
			for name, rec := range tc.records {
				d.txt["_dmarc."+name] = []string{rec}
			}
			if tc.fail != "" {
				d.fail[tc.fail] = timeoutError(tc.fail)
			}
			msg := []byte(tc.msg)
			if tc.signer != "" {
				publishKey(d, "sel", tc.signer)
				msg = sign(t, tc.msg, tc.signer)
			}
			spf := tc.spf
			if spf.Status == "" {
				spf = SPFResult{Status: StatusNone}
			}
			v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test", Percent: func() int { return tc.percent }}
			res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
			got := res.DMARC
			if got.Status != tc.status || res.Disposition() != tc.policy || got.SPFAligned != tc.spfAl || got.DKIMAligned != tc.dkimAl {
				t.Errorf("got status %s disposition %s spf-aligned %v dkim-aligned %v (%+v, dkim %+v), want %s %s %v %v",
					got.Status, res.Disposition(), got.SPFAligned, got.DKIMAligned, got, res.DKIM, tc.status, tc.policy, tc.spfAl, tc.dkimAl)
			}
		})
	}
}

// TestDKIMIdentifierCase: i= names d= in other letter case, or quoted-printable encoded
// (RFC 6376 §3.5); the signature passes, and a changed body still fails.
func TestDKIMIdentifierCase(t *testing.T) {
	d := newFakeDNS()
	publishKey(d, "sel", "example.com")
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	for _, id := range []string{"Alice@Example.COM", "alice=40example.com", "@News.Example.com"} {
		var out bytes.Buffer
		err := dkim.Sign(&out, strings.NewReader(testMessage("a@example.com")), &dkim.SignOptions{
			Domain: "example.com", Selector: "sel", Identifier: id, Signer: crypto.Signer(testKey),
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		})
		if err != nil {
			t.Fatal(err)
		}
		msg := out.Bytes()
		res := v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
		if len(res.DKIM) != 1 || res.DKIM[0].Status != StatusPass || res.DMARC.Status != StatusPass {
			t.Errorf("i=%s: dkim %+v dmarc %s", id, res.DKIM, res.DMARC.Status)
		}
		bad := bytes.Replace(msg, []byte("Hello."), []byte("Hello?"), 1)
		res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(bad), int64(len(bad)))
		if res.DKIM[0].Status != StatusFail {
			t.Errorf("i=%s, changed body: %+v", id, res.DKIM)
		}
	}
	// An i= outside d= stays permerror.
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(testMessage("a@example.com")), &dkim.SignOptions{
		Domain: "example.com", Selector: "sel", Identifier: "a@example.net", Signer: crypto.Signer(testKey),
	}); err != nil {
		t.Fatal(err)
	}
	msg := out.Bytes()
	res := v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
	if res.DKIM[0].Status != StatusPermError {
		t.Errorf("i= outside d=: %+v", res.DKIM)
	}
}

// An internationalized From domain is looked up, and aligned, as its A-labels.
func TestDMARCInternationalDomain(t *testing.T) {
	d := newFakeDNS()
	d.txt["_dmarc.xn--bcher-kva.example"] = []string{"v=DMARC1; p=reject"}
	d.txt["xn--bcher-kva.example"] = []string{"v=spf1 ip4:192.0.2.1 -all"}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	spf := v.SPF(context.Background(), net.ParseIP("192.0.2.1"), "client.example", "info@Bücher.example")
	if spf.Status != StatusPass || spf.Domain != "xn--bcher-kva.example" {
		t.Fatalf("spf: %+v", spf)
	}
	msg := []byte(testMessage("info@bücher.example"))
	res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
	if res.DMARC.Status != StatusPass || res.DMARC.FromDomain != "xn--bcher-kva.example" {
		t.Errorf("dmarc: %+v", res.DMARC)
	}
	res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
	if res.DMARC.Status != StatusFail || res.Disposition() != PolicyReject {
		t.Errorf("dmarc without spf: %+v", res.DMARC)
	}
}

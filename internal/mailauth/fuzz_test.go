package mailauth

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

// Fuzz tests for every parser of the package. Seeds are in testdata/fuzz/<name>/ and below.

func FuzzParseTags(f *testing.F) {
	f.Add("v=1; a=rsa-sha256; d=example.com; s=sel;\r\n\th=from:to; bh=abc=; b=de f=")
	f.Add("a=;b= ;")
	f.Fuzz(func(t *testing.T, s string) {
		tags, order, err := parseTags(s)
		if err != nil {
			return
		}
		if len(tags) != len(order) {
			t.Fatalf("%d tags, %d names", len(tags), len(order))
		}
		for _, name := range order {
			if !isTagName(name) {
				t.Fatalf("invalid name %q accepted", name)
			}
		}
	})
}

func FuzzDMARCRecord(f *testing.F) {
	f.Add("v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=r; rua=mailto:d@example.com")
	f.Add("v=DMARC1; p=none")
	f.Add("v=DMARC1;p=bogus;rua=mailto:x@y")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseDMARCRecord(s)
		if err != nil {
			return
		}
		if _, ok := parsePolicy(string(rec.Policy)); !ok {
			t.Fatalf("accepted record with policy %q", rec.Policy)
		}
		if rec.Percent < 0 || rec.Percent > 100 {
			t.Fatalf("pct %d", rec.Percent)
		}
	})
}

func FuzzAuthResults(f *testing.F) {
	f.Add([]byte("Authentication-Results: mx.example; spf=pass smtp.mailfrom=a@b\r\nX: y\r\n\r\nbody"), "mx.example")
	f.Add([]byte("Authentication-Results: (c (nested) \\) ) \"mx\" 1; dkim=pass (x) header.d=\"a;b\"\r\n\r\n"), "mx")
	f.Add([]byte("ARC-Authentication-Results: i=1; mx; arc=none\n"), "mx")
	f.Fuzz(func(t *testing.T, header []byte, id string) {
		out := StripAuthResults(header, id)
		if len(out) > len(header) {
			t.Fatalf("output longer than input")
		}
		if again := StripAuthResults(out, id); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		if bytes.Count(out, []byte("ARC-Authentication-Results")) != bytes.Count(header, []byte("ARC-Authentication-Results")) {
			t.Fatalf("an ARC field was removed")
		}
		splitAuthservID(string(header))
	})
}

func FuzzSPFSyntax(f *testing.F) {
	f.Add("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:%{d}.example.com/24//64 mx -all")
	f.Add("v=spf1 include:_spf.example.com exists:%{ir}.%{v}._spf.%{d2} redirect=example.net exp=explain.%{d}")
	f.Add("v=spf1 a:foo:bar/baz.example.com ~all")
	f.Add("v=spf1 exists:%{p}.should.example.com ~exists:%{P2r-}.ok.example.com mx:a/b.example//64")
	d := newFakeDNS()
	d.ptr["192.0.2.1"] = []string{"mail.example.com."}
	d.ip["mail.example.com"] = []net.IPAddr{{IP: net.ParseIP("192.0.2.1")}}
	f.Fuzz(func(t *testing.T, s string) {
		if checkSPFSyntax(s) != nil {
			return
		}
		if !strings.HasPrefix(strings.ToLower(s), "v=spf1") {
			t.Fatalf("accepted %q", s)
		}
		r := &spfResolver{r: d, ip: net.ParseIP("192.0.2.1")}
		out := r.rewrite(context.Background(), s, "example.com")
		if !strings.Contains(strings.ToLower(s), "{p") && checkSPFSyntax(out) != nil {
			t.Fatalf("%q rewritten to %q, which is not a valid record", s, out)
		}
	})
}

// FuzzMessage runs the whole message verification (header reading, From parsing, DKIM, ARC,
// DMARC, the header rendering) on arbitrary input: it must never panic.
func FuzzMessage(f *testing.F) {
	f.Add([]byte(testMessage("a@example.com")))
	f.Add([]byte("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=dummy; b=AAAA\r\n" +
		"ARC-Message-Signature: i=1; a=rsa-sha256; d=example.org; s=dummy; h=from; bh=AAAA; b=AAAA\r\n" +
		"ARC-Authentication-Results: i=1; lists.example.org; dmarc=pass\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA\r\n" +
		"From: a@example.com\r\n\r\nbody\r\n"))
	f.Add([]byte("From: a@example.com\nFrom: b@example.org\n\n"))
	d := newFakeDNS()
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	d.txt["dummy._domainkey.example.org"] = []string{"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test", TrustedARCSealers: []string{"example.org"}}
	spf := SPFResult{Status: StatusPass, Domain: "example.com", MailFrom: "a@example.com"}
	f.Fuzz(func(t *testing.T, msg []byte) {
		res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
		res.IPRev = IPRevResult{Status: StatusPass, IP: net.IPv4(192, 0, 2, 1)}
		h := res.Header(v.Hostname)
		if !strings.HasSuffix(h, "\r\n") || strings.Count(h, "\n") != strings.Count(h, "\r\n") {
			t.Fatalf("bad header %q", h)
		}
		if id, _ := splitAuthservID(h[len("Authentication-Results:"):]); id != v.Hostname {
			t.Fatalf("header does not parse back to our authserv-id: %q", h)
		}
	})
}

// FuzzARCSets parses ARC header fields (ARC-Seal, ARC-Message-Signature tag lists and
// ARC-Authentication-Results instances) into sets: whatever it accepts is a complete chain of
// at most 50 instances.
func FuzzARCSets(f *testing.F) {
	f.Add([]byte("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=dummy; b=AAAA\r\n" +
		"ARC-Message-Signature: i=1; a=rsa-sha256; d=example.org; s=dummy; h=from; bh=AAAA; b=AAAA\r\n" +
		"ARC-Authentication-Results: i=1; lists.example.org; dmarc=pass\r\n\r\n"))
	f.Add([]byte("ARC-Authentication-Results: i = 2 ; x\r\nARC-Seal: i=02; cv=pass\r\n\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		fields, _, _ := readHeader(bytes.NewReader(header))
		sets, err := collectARCSets(fields)
		if err != nil {
			return
		}
		if len(sets) > maxARCInstances {
			t.Fatalf("%d sets", len(sets))
		}
		for i, s := range sets {
			if s.seal == nil || s.sig == nil || s.results == nil {
				t.Fatalf("set %d incomplete", i+1)
			}
		}
	})
}

package mailauth

import (
	"net"
	"testing"
)

func TestHeader(t *testing.T) {
	r := Results{
		IPRev: IPRevResult{Status: StatusPass, IP: net.ParseIP("192.0.2.1"), Name: "mail.example.com"},
		SPF:   SPFResult{Status: StatusPass, Identity: "mailfrom", Domain: "example.com", MailFrom: "alice@example.com"},
		DKIM: []DKIMResult{
			{Status: StatusPass, Domain: "example.com", Identifier: "@example.com", Selector: "sel", Algorithm: "ed25519-sha256", HeaderB: "abc+/def"},
			{Status: StatusFail, Domain: "list.example", Selector: "s 1", Reason: "body hash did not verify"},
		},
		ARC:   ARCResult{Status: StatusPass, Instances: 2, Sealer: "list.example", OldestPass: 2},
		DMARC: DMARCResult{Status: StatusFail, FromDomain: "example.com", Requested: PolicyReject, Policy: PolicyQuarantine, Reason: "no aligned SPF or DKIM pass"},
	}
	want := "Authentication-Results: mx.posthorn.test;\r\n" +
		"\tiprev=pass policy.iprev=192.0.2.1 (mail.example.com);\r\n" +
		"\tspf=pass smtp.mailfrom=alice@example.com;\r\n" +
		"\tdkim=pass header.d=example.com header.i=@example.com header.s=sel header.a=ed25519-sha256 header.b=\"abc+/def\";\r\n" +
		"\tdkim=fail (body hash did not verify) header.d=list.example header.s=\"s 1\";\r\n" +
		"\tarc=pass (i=2 sealer list.example) header.oldest-pass=2;\r\n" +
		"\tdmarc=fail (p=reject dis=quarantine no aligned SPF or DKIM pass) header.from=example.com\r\n"
	if got := r.Header("mx.posthorn.test"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// Our own header must parse back to our authserv-id and every method.
	id, specs := splitAuthservID(want[len("Authentication-Results:"):])
	if id != "mx.posthorn.test" || len(specs) != 6 {
		t.Fatalf("parsed back %q with %d results: %+v", id, len(specs), specs)
	}
	if specs[0].method != "iprev" || specs[5].method != "dmarc" || specs[5].value != "fail" {
		t.Errorf("parsed back %+v", specs)
	}

	helo := Results{SPF: SPFResult{Status: StatusNone, Identity: "helo", Helo: "client.example"}}
	want = "Authentication-Results: mx;\r\n\tspf=none smtp.helo=client.example;\r\n\tdkim=none\r\n"
	if got := helo.Header("mx"); got != want {
		t.Errorf("null sender: got %q, want %q", got, want)
	}
}

func TestStripAuthResults(t *testing.T) {
	in := "Received: from a by b\r\n" +
		"Authentication-Results: mx.posthorn.test; spf=pass\r\n" +
		"Authentication-Results: (forged) MX.Posthorn.Test;\r\n\tdkim=pass header.d=bank.example\r\n" +
		"authentication-results: mx.posthorn.test.evil; spf=pass\r\n" +
		"Authentication-Results: \"mx.posthorn.test\" 1; dmarc=pass\r\n" +
		"ARC-Authentication-Results: i=1; mx.posthorn.test; spf=pass\r\n" +
		"Authentication-Results: lists.example; dkim=pass\r\n" +
		"Subject: Authentication-Results: mx.posthorn.test; x\r\n" +
		"\r\n" +
		"Authentication-Results: mx.posthorn.test; body line\r\n"
	want := "Received: from a by b\r\n" +
		"authentication-results: mx.posthorn.test.evil; spf=pass\r\n" +
		"ARC-Authentication-Results: i=1; mx.posthorn.test; spf=pass\r\n" +
		"Authentication-Results: lists.example; dkim=pass\r\n" +
		"Subject: Authentication-Results: mx.posthorn.test; x\r\n" +
		"\r\n" +
		"Authentication-Results: mx.posthorn.test; body line\r\n"
	if got := string(StripAuthResults([]byte(in), "mx.posthorn.test")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := string(StripAuthResults([]byte("X: y\n"), "mx")); got != "X: y\n" {
		t.Errorf("LF header: got %q", got)
	}
}

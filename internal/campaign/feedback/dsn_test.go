package feedback

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type wantRcpt struct {
	addr, action, status string
	bounce               Bounce
}

func checkRecipients(t *testing.T, d *DSN, want []wantRcpt) {
	t.Helper()
	if len(d.Recipients) != len(want) {
		t.Fatalf("%d recipients, want %d: %+v", len(d.Recipients), len(want), d.Recipients)
	}
	for i, w := range want {
		r := d.Recipients[i]
		status := ""
		if r.HasStatus {
			status = r.Status.String()
		}
		if r.FinalRecipient != w.addr || r.Action != w.action || status != w.status || r.Bounce != w.bounce {
			t.Errorf("recipient %d: got %s %s %s %v, want %+v", i, r.FinalRecipient, r.Action, status, r.Bounce, w)
		}
	}
}

func TestGmailDSN(t *testing.T) {
	d, err := ParseDSN(bytes.NewReader(readSample(t, "gmail.eml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Standard || d.ReportingMTA != "googlemail.com" {
		t.Errorf("standard %v, reporting MTA %q", d.Standard, d.ReportingMTA)
	}
	checkRecipients(t, d, []wantRcpt{{"nobody@gmail.com", "failed", "5.1.1", HardBounce}})
	diag := d.Recipients[0].DiagnosticCode
	if !strings.HasPrefix(diag, "550-5.1.1 The email account") || !strings.HasSuffix(diag, "- gsmtp") {
		t.Errorf("diagnostic code not unfolded: %q", diag)
	}
	o := d.Original
	if o == nil {
		t.Fatal("no returned message")
	}
	if o.ReturnPath != "bounce+aaaq4e7gxkqwc3dhcfh3ebgdtda@news.example.org" || o.MessageID != "<c12.r345678@news.example.org>" ||
		o.FeedbackID != "12:news:posthorn" || !strings.Contains(o.ListUnsubscribe, "<mailto:unsubscribe+aeaq4e7gxkqwc3dhcfh3ebgdtda@news.example.org>") ||
		o.ListID != "Example News <news.example.org>" || o.Subject != "December news" {
		t.Errorf("returned message: %+v", o)
	}
}

func TestOutlookDSN(t *testing.T) {
	// Outlook's NDRs come with CRLF line ends.
	raw := bytes.ReplaceAll(readSample(t, "outlook.eml"), []byte("\n"), []byte("\r\n"))
	d, err := ParseDSN(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkRecipients(t, d, []wantRcpt{
		{"gone@contoso.com", "failed", "5.1.10", HardBounce},
		{"full@contoso.com", "failed", "5.2.2", SoftBounce},
	})
	if d.Recipients[0].OriginalRecipient != "gone@contoso.com" {
		t.Errorf("original recipient %q", d.Recipients[0].OriginalRecipient)
	}
	if d.Original == nil || d.Original.ReturnPath != "bounce+aaaq4e7gxkqwc3dhcfh3ebgdtdb@news.example.org" || d.Original.To != "gone@contoso.com" {
		t.Errorf("returned headers: %+v", d.Original)
	}
}

func TestPostfixDSN(t *testing.T) {
	d, err := ParseDSN(bytes.NewReader(readSample(t, "postfix.eml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkRecipients(t, d, []wantRcpt{
		{"carol@example.net", "failed", "4.2.2", SoftBounce},
		{"dave@example.net", "failed", "5.1.1", HardBounce},
		{"erin@example.net", "delayed", "4.4.1", NoBounce},
	})
	if r := d.Recipients[1]; r.RemoteMTA != "mail.example.net" ||
		r.DiagnosticCode != "550 5.1.1 <dave@example.net>: Recipient address rejected: User unknown in virtual mailbox table" {
		t.Errorf("dave: %+v", r)
	}
	if d.Original == nil || d.Original.MessageID != "<c12.r345680@news.example.org>" {
		t.Errorf("returned headers: %+v", d.Original)
	}
}

func TestBase64DeliveryStatus(t *testing.T) {
	d, err := ParseDSN(bytes.NewReader(readSample(t, "exim-base64.eml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkRecipients(t, d, []wantRcpt{{"grace@example.com", "failed", "5.7.1", SoftBounce}})
	if d.ReportingMTA != "relay.example.com" || d.Original != nil {
		t.Errorf("reporting MTA %q, original %v", d.ReportingMTA, d.Original)
	}
}

func TestNonStandardBounce(t *testing.T) {
	d, err := ParseDSN(bytes.NewReader(readSample(t, "qmail.eml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Standard {
		t.Error("a qmail bounce taken for a standard DSN")
	}
	checkRecipients(t, d, []wantRcpt{{"frank@example.com", "failed", "5.1.1", HardBounce}})

	for name, tc := range map[string]struct {
		text string
		want []wantRcpt
	}{
		"status line": {"Subject: x\n\nDelivery to alice@example.com failed.\nStatus: 5.2.2\n",
			[]wantRcpt{{"alice@example.com", "failed", "5.2.2", SoftBounce}}},
		"reply with hyphen": {"Subject: x\n\n<bob@example.com>\n  550-5.1.1 no such user\n",
			[]wantRcpt{{"bob@example.com", "failed", "5.1.1", HardBounce}}},
		"no address": {"Subject: x\n\nthe server said 554 5.7.1 rejected\n",
			[]wantRcpt{{"", "failed", "5.7.1", SoftBounce}}},
		"two recipients": {"Subject: x\n\na@example.com: 550 5.1.1 unknown\nb@example.com: 452 4.2.2 full\na@example.com: 550 5.1.1 unknown\n",
			[]wantRcpt{{"a@example.com", "failed", "5.1.1", HardBounce}, {"b@example.com", "failed", "4.2.2", SoftBounce}}},
	} {
		d, err := ParseDSN(strings.NewReader(tc.text), Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { checkRecipients(t, d, tc.want) })
	}
	for _, text := range []string{
		"Subject: hello\n\nJust a note, version 1.2.3 is out, call 555 1234.\n",
		"Subject: x\n\n250 2.0.0 ok\n",
		"",
	} {
		if d, err := ParseDSN(strings.NewReader(text), Limits{}); !errors.Is(err, ErrNotDSN) {
			t.Errorf("%q: got %+v, %v; want ErrNotDSN", text, d, err)
		}
	}
}

func TestDeliveryStatusLayouts(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want []wantRcpt
	}{
		"no blank line after per-message fields": {
			"Reporting-MTA: dns; a.example\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n",
			[]wantRcpt{{"x@example.com", "failed", "5.1.1", HardBounce}}},
		"no blank line between recipients": {
			"Reporting-MTA: dns; a.example\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; y@example.com\nAction: failed\nStatus: 4.4.7\n",
			[]wantRcpt{{"x@example.com", "failed", "5.1.1", HardBounce}, {"y@example.com", "failed", "4.4.7", SoftBounce}}},
		"many blank lines, lower-case names, action first": {
			"reporting-mta: dns; a.example\n\n\n\naction: FAILED\nfinal-recipient: RFC822;<X@Example.com>\nstatus: 5.0.0 (permanent failure)\n\n\n",
			[]wantRcpt{{"X@Example.com", "failed", "5.0.0", HardBounce}}},
		"status only in the diagnostic": {
			"Final-Recipient: rfc822; x@example.com\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1 unknown\n",
			[]wantRcpt{{"x@example.com", "failed", "5.1.1", HardBounce}}},
		"reply code only": {
			"Final-Recipient: rfc822; x@example.com\nAction: failed\nDiagnostic-Code: smtp; 552 too much mail\n",
			[]wantRcpt{{"x@example.com", "failed", "", SoftBounce}}},
		"failed without anything": {
			"Final-Recipient: rfc822; x@example.com\nAction: failed\n",
			[]wantRcpt{{"x@example.com", "failed", "", SoftBounce}}},
		"bad status, diagnostic decides": {
			"Final-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1\nDiagnostic-Code: smtp; 550 5.2.1 disabled\n",
			[]wantRcpt{{"x@example.com", "failed", "5.2.1", HardBounce}}},
		"no action": {
			"Final-Recipient: rfc822; x@example.com\nStatus: 5.1.1\n",
			[]wantRcpt{{"x@example.com", "", "5.1.1", HardBounce}}},
		"delivered": {
			"Final-Recipient: rfc822; x@example.com\nAction: delivered\nStatus: 2.0.0\n",
			[]wantRcpt{{"x@example.com", "delivered", "2.0.0", NoBounce}}},
	} {
		msg := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n" + tc.body + "\n--b--\n"
		d, err := ParseDSN(strings.NewReader(msg), Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { checkRecipients(t, d, tc.want) })
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("X-Filler: "+strings.Repeat("a", 60)+"\n", 2000) // about 140 KB
	status := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n" +
		big + "\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n\n--b--\n"
	if _, err := ParseDSN(strings.NewReader(status), Limits{MaxPart: 64 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized status part: %v, want ErrTooLarge", err)
	}
	if d, err := ParseDSN(strings.NewReader(status), Limits{}); err != nil || len(d.Recipients) != 1 {
		t.Errorf("within the default limits: %v", err)
	}
	header := "Subject: x\n" + big + "\nStatus: 5.1.1\n"
	if _, err := ParseDSN(strings.NewReader(header), Limits{MaxPart: 64 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized header: %v, want ErrTooLarge", err)
	}
	returned := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n" + big + "\n--b--\n"
	if _, err := ParseDSN(strings.NewReader(returned), Limits{MaxPart: 64 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized returned header: %v, want ErrTooLarge", err)
	}
	// A large returned body is skipped, not held; the whole input is bounded.
	body := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.com\nAction: failed\nStatus: 5.1.1\n\n--b\nContent-Type: message/rfc822\n\nSubject: hi\n\n" +
		strings.Repeat("body line\n", 100_000) + "--b--\n"
	if d, err := ParseDSN(strings.NewReader(body), Limits{MaxPart: 4 << 10}); err != nil || d.Original == nil || d.Original.Subject != "hi" {
		t.Errorf("large returned body: %+v, %v", d, err)
	}
	if _, err := ParseDSN(strings.NewReader(body), Limits{MaxMessage: 500 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("input over MaxMessage: %v, want ErrTooLarge", err)
	}
	// Text is cut, not refused.
	text := "Subject: x\n\n" + strings.Repeat("filler\n", 20_000) + "550 5.1.1 late\n"
	if _, err := ParseDSN(strings.NewReader(text), Limits{MaxPart: 1 << 10}); !errors.Is(err, ErrNotDSN) {
		t.Errorf("status beyond the text limit: %v, want ErrNotDSN", err)
	}
}

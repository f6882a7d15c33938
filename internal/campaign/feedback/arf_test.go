package feedback

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseARF(t *testing.T) {
	rep, err := ParseARF(bytes.NewReader(readSample(t, "arf.eml")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FeedbackType != "abuse" || rep.UserAgent != "SomeGenerator/1.0" || rep.Version != "1" {
		t.Errorf("required fields: %+v", rep)
	}
	if rep.OriginalMailFrom != "bounce+aaaq4e7gxkqwc3dhcfh3ebgdtdf@news.example.org" ||
		len(rep.OriginalRcptTo) != 1 || rep.OriginalRcptTo[0] != "henry@provider.example" {
		t.Errorf("envelope: %q %q", rep.OriginalMailFrom, rep.OriginalRcptTo)
	}
	if !rep.ArrivalDate.Equal(time.Date(2026, 12, 1, 17, 0, 2, 0, time.UTC)) || rep.SourceIP != netip.MustParseAddr("198.51.100.7") {
		t.Errorf("arrival %v, source %v", rep.ArrivalDate, rep.SourceIP)
	}
	if len(rep.ReportedDomain) != 1 || rep.ReportedDomain[0] != "news.example.org" || len(rep.ReportedURI) != 1 {
		t.Errorf("reported: %q %q", rep.ReportedDomain, rep.ReportedURI)
	}
	if !strings.Contains(rep.Fields.Get("Authentication-Results"), "dkim=pass header.d=news.example.org") {
		t.Errorf("folded field: %q", rep.Fields.Get("Authentication-Results"))
	}
	m := rep.Message
	if m == nil {
		t.Fatal("no reported message")
	}
	if m.ReturnPath != "bounce+aaaq4e7gxkqwc3dhcfh3ebgdtdf@news.example.org" || m.MessageID != "<c12.r345681@news.example.org>" ||
		m.FeedbackID != "12:news:posthorn" || m.To != "<henry@provider.example>" ||
		m.ListUnsubscribe != "<https://news.example.org/u/aeaq4e7gxkqwc3dhcfh3ebgdtdf>, <mailto:unsubscribe+aeaq4e7gxkqwc3dhcfh3ebgdtdf@news.example.org>" {
		t.Errorf("reported message: %+v", m)
	}

	// Parse tells the report from a DSN.
	p, err := Parse(bytes.NewReader(readSample(t, "arf.eml")), Limits{})
	if err != nil || p.ARF == nil || p.DSN != nil || p.ARF.FeedbackType != "abuse" {
		t.Errorf("Parse of a report: %+v, %v", p, err)
	}
	p, err = Parse(bytes.NewReader(readSample(t, "postfix.eml")), Limits{})
	if err != nil || p.DSN == nil || p.ARF != nil || len(p.DSN.Recipients) != 3 {
		t.Errorf("Parse of a DSN: %+v, %v", p, err)
	}
	if _, err := Parse(strings.NewReader("Subject: hello\n\nhi\n"), Limits{}); !errors.Is(err, ErrNotDSN) {
		t.Errorf("Parse of a letter: %v", err)
	}
}

func TestARFVariants(t *testing.T) {
	report := func(fields, third string) string {
		return "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nreport\n--b\nContent-Type: message/feedback-report\n\n" +
			fields + "\n" + third + "--b--\n"
	}
	headers := "--b\nContent-Type: text/rfc822-headers\n\nReturn-Path: <bounce+x@news.example.org>\nMessage-ID: <m1@news.example.org>\n\n"
	for name, tc := range map[string]struct {
		msg      string
		typ      string
		rcpts    int
		returnTo string
	}{
		"not-spam, headers only": {report("Feedback-Type: not-spam\nUser-Agent: X/1\nVersion: 1\n", headers), "not-spam", 0, "bounce+x@news.example.org"},
		"several recipients":     {report("Feedback-Type: Abuse\nOriginal-Rcpt-To: a@x.example\nOriginal-Rcpt-To: <b@x.example>\n", headers), "abuse", 2, "bounce+x@news.example.org"},
		"no third part":          {report("Feedback-Type: fraud\nSource-IP: [2001:db8::1]\nArrival-Date: garbage\n", ""), "fraud", 0, ""},
	} {
		rep, err := ParseARF(strings.NewReader(tc.msg), Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := ""
		if rep.Message != nil {
			got = rep.Message.ReturnPath
		}
		if rep.FeedbackType != tc.typ || len(rep.OriginalRcptTo) != tc.rcpts || got != tc.returnTo {
			t.Errorf("%s: %+v", name, rep)
		}
	}
	rep, _ := ParseARF(strings.NewReader(report("Feedback-Type: fraud\nSource-IP: [2001:db8::1]\nArrival-Date: garbage\n", "")), Limits{})
	if rep == nil || rep.SourceIP != netip.MustParseAddr("2001:db8::1") || !rep.ArrivalDate.IsZero() {
		t.Errorf("source and date: %+v", rep)
	}
	for name, msg := range map[string]string{
		"no feedback type": report("User-Agent: X/1\nVersion: 1\n", headers),
		"a DSN":            string(readSample(t, "gmail.eml")),
		"plain":            "Subject: hi\n\nhello\n",
	} {
		if rep, err := ParseARF(strings.NewReader(msg), Limits{}); !errors.Is(err, ErrNotARF) {
			t.Errorf("%s: %+v, %v; want ErrNotARF", name, rep, err)
		}
	}
	big := report("Feedback-Type: abuse\n"+strings.Repeat("X-Pad: "+strings.Repeat("p", 70)+"\n", 1000), headers)
	if _, err := ParseARF(strings.NewReader(big), Limits{MaxPart: 16 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized report part: %v, want ErrTooLarge", err)
	}
}

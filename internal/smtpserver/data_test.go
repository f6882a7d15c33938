package smtpserver

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestCopyMessageNormalisesLineEnds(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb", "a\r\nb\r\n"},
		{"\n", "\r\n"},
		{"", ""},
	}
	for _, c := range cases {
		var out bytes.Buffer
		// One byte at a time: line ends split across reads must be handled too.
		if _, err := copyMessage(&out, "R\r\n", iotest.OneByteReader(strings.NewReader(c.in)), 0); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimPrefix(out.String(), "R\r\n"); got != c.want {
			t.Errorf("copyMessage(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCopyMessageRefusesBareCR: a CR not followed by LF anywhere (a line, the header, the end,
// a CR split from its LF by a read) is refused; CRLF split across reads is not.
func TestCopyMessageRefusesBareCR(t *testing.T) {
	for _, in := range []string{"bare\rcr\r\n", "a\r\n\r.\r\nb\r\n", "Subject: x\r\r\n\r\nb\r\n", "a\r\nend\r", "\r", "a\r\r\n"} {
		for _, r := range []func(string) io.Reader{
			func(s string) io.Reader { return strings.NewReader(s) },
			func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		} {
			if _, err := copyMessage(&bytes.Buffer{}, "R\r\n", r(in), 0); !errors.Is(err, errBareCR) {
				t.Errorf("copyMessage(%q): err = %v, want errBareCR", in, err)
			}
		}
	}
	// A CRLF that straddles the 64 KiB read buffer is no bare CR.
	long := strings.Repeat("x", 64<<10-1) + "\r\nend\r\n"
	if _, err := copyMessage(&bytes.Buffer{}, "", strings.NewReader(long), 0); err != nil {
		t.Errorf("long line: %v", err)
	}
}

func TestCopyMessageCountsOnlyHeaderReceived(t *testing.T) {
	msg := strings.Repeat("Received: x\r\n", 3) + "RECEIVED: y\r\nSubject: s\r\n\r\nReceived: body\r\n"
	stats, err := copyMessage(&bytes.Buffer{}, "Received: ours\r\n", strings.NewReader(msg), 0)
	if err != nil || stats.receivedHeaders != 5 {
		t.Fatalf("receivedHeaders = %d, %v; want 5", stats.receivedHeaders, err)
	}
	_, err = copyMessage(&bytes.Buffer{}, "", strings.NewReader(strings.Repeat("Received: x\r\n", MaxReceived)), 0)
	if !errors.Is(err, errLoop) {
		t.Fatalf("err = %v, want errLoop", err)
	}
}

func TestCopyMessageLimit(t *testing.T) {
	_, err := copyMessage(&bytes.Buffer{}, "", strings.NewReader(strings.Repeat("x\r\n", 100)), 50)
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("err = %v, want errTooLarge", err)
	}
}

func TestReceivedHeader(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	got := receivedHeader("mx.example.org", "evil\r\nInjected: yes (x)", "192.0.2.1", "ID1", []string{"a@example.org"}, true, now)
	want := "Received: from evil__Injected:_yes__x_ ([192.0.2.1])\r\n\tby mx.example.org (posthorn) with ESMTPS id ID1\r\n\tfor <a@example.org>;\r\n\tWed, 25 Nov 2026 10:00:00 +0000\r\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// FuzzCopyMessage: whatever arrives, the stored form is CRLF lines only, and input that already
// was CRLF lines is stored unchanged.
func FuzzCopyMessage(f *testing.F) {
	for _, s := range []string{"Subject: x\r\n\r\nbody\r\n", "a\nb", "\r\n.\n.\r\n", "Received: a\r\nReceived: b\r\n\r\n", "\r", "x\r\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if _, err := copyMessage(&out, "", strings.NewReader(in), 0); err != nil {
			if errors.Is(err, errLoop) {
				return
			}
			if errors.Is(err, errBareCR) {
				if !strings.Contains(strings.ReplaceAll(in, "\r\n", ""), "\r") {
					t.Fatalf("%q refused for a bare CR it does not have", in)
				}
				return
			}
			t.Fatal(err)
		}
		got := out.String()
		if strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") {
			t.Fatalf("bare LF in output %q", got)
		}
		if strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\r") {
			t.Fatalf("bare CR in output %q", got)
		}
		if got != "" && !strings.HasSuffix(got, "\r\n") {
			t.Fatalf("output %q does not end with CRLF", got)
		}
		if in != "" && strings.HasSuffix(in, "\r\n") && !strings.Contains(strings.ReplaceAll(in, "\r\n", ""), "\n") && got != in {
			t.Fatalf("CRLF input %q changed to %q", in, got)
		}
	})
}

package smtpserver

import (
	"strings"
	"testing"
)

func TestHeaderSection(t *testing.T) {
	for _, tc := range []struct {
		msg       string
		end       int
		separated bool
	}{
		{"From: a\r\nSubject: b\r\n\r\nbody\r\n", 23, true},
		{"From: a\r\n folded\r\n\r\n", 20, true},
		{"From: a\r\nthis line starts the body\r\n", 9, false},
		{"From: a\r\n", 9, false},
		{"From: a", 7, false},
		{" From: a\r\n\r\n", 0, false},
		{"\r\nbody\r\n", 2, true},
	} {
		end, sep := headerSection(strings.NewReader(tc.msg), int64(len(tc.msg)))
		if end != int64(tc.end) || sep != tc.separated {
			t.Errorf("%q: end %d separated %v, want %d %v", tc.msg, end, sep, tc.end, tc.separated)
		}
	}
}

func TestReadSubmittedHeader(t *testing.T) {
	for _, tc := range []struct {
		msg, from string
		id, date  bool
		reply     string
	}{
		{"From: a@example.org\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n", "a@example.org", true, false, ""},
		{"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: A <a@example.org>, b@example.org\r\n", "a@example.org b@example.org", false, true, ""},
		{"From: a@example.org\r\nthis line starts the body\r\n", "a@example.org", false, false, ""},
		{"Subject: no from\r\n\r\n", "", false, false, "550 5.6.0"},
		{"From: not an address\r\n\r\n", "", false, false, "550 5.6.0"},
		{"From: a@example.org\r\nX: " + strings.Repeat("x", maxSubmittedHeader) + "\r\n\r\n", "", false, false, "552 5.3.4"},
	} {
		h, reply := readSubmittedHeader(strings.NewReader(tc.msg), int64(len(tc.msg)))
		if reply != nil {
			if got := replyCode(reply); got != tc.reply {
				t.Errorf("%.40q: reply %s, want %q", tc.msg, got, tc.reply)
			}
			continue
		}
		var from []string
		for _, a := range h.from {
			from = append(from, a.String())
		}
		if tc.reply != "" || strings.Join(from, " ") != tc.from || h.messageID != tc.id || h.date != tc.date {
			t.Errorf("%.40q: %+v, want from %q id %v date %v reply %q", tc.msg, h, tc.from, tc.id, tc.date, tc.reply)
		}
	}
}

// FuzzReadSubmittedHeader: any message gets an answer, never a panic, and an accepted one has
// a From address.
func FuzzReadSubmittedHeader(f *testing.F) {
	for _, seed := range []string{
		"From: a@example.org\r\n\r\nbody\r\n",
		"From: =?utf-8?q?J=C3=B6rg?= <j@example.org>, \"x, y\" <x@example.org>\r\n\r\n",
		"From: a@example.org\r\n continued\r\nDate: x\r\n",
		" leading space\r\nFrom: a@example.org\r\n\r\n",
		"From: group: a@example.org, b@example.org;\r\n\r\n",
		"From:\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, reply := readSubmittedHeader(strings.NewReader(string(msg)), int64(len(msg)))
		if reply == nil && len(h.from) == 0 {
			t.Fatalf("accepted without a From address: %q", msg)
		}
		if reply == nil && (h.end < 0 || h.end > int64(len(msg))) {
			t.Fatalf("header end %d outside the message of %d octets", h.end, len(msg))
		}
	})
}

package wire

import (
	"bufio"
	"testing"

	"posthorn/internal/message"
)

// TestEnvelope writes the ENVELOPE of messages and compares it with what Dovecot writes for them.
// The first cases are the messages of Dovecot imaptest's fetch-envelope test, with its expected
// replies (shared/testdata/imaptest/tests/fetch-envelope).
func TestEnvelope(t *testing.T) {
	tests := []struct {
		name   string
		header string // LF line ends; CRLF, a blank line and a body are added
		utf8   bool
		want   string
	}{{
		name: "every field",
		header: `Message-ID: <msg@id>
In-Reply-To: <reply@to.id>
Date: Thu, 15 Feb 2007 01:02:03 +0200
Subject: subject header
From: From Real <fromuser@fromdomain.org>
To: To Real <touser@todomain.org>
Cc: Cc Real <ccuser@ccdomain.org>
Bcc: Bcc Real <bccuser@bccdomain.org>
Sender: Sender Real <senderuser@senderdomain.org>
Reply-To: ReplyTo Real <replytouser@replytodomain.org>`,
		want: `("Thu, 15 Feb 2007 01:02:03 +0200" "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) (("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) (("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) (("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>")`,
	}, {
		name:   "sender and reply-to from from",
		header: "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain",
		want:   `("Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) NIL NIL NIL NIL NIL)`,
	}, {
		name: "groups",
		header: `Date: Thu, 15 Feb 2007 01:02:03 +0200
From: user@domain (Real Name)
To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;
Cc: group:;, group2: (foo) ;`,
		want: `("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)`,
	}, {
		name:   "empty sender and reply-to",
		header: "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nSender: \nReply-To: ",
		want:   `("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL)`,
	}, {
		name:   "source route",
		header: "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: <@route:user@domain>",
		want:   `("Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL)`,
	}, {
		name:   "no header at all: every field NIL",
		header: "",
		want:   `(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)`,
	}, {
		name:   "empty fields are NIL, a subject NIL is a string",
		header: "Date:\nSubject: NIL\nTo:\nMessage-ID: ",
		want:   `(NIL "NIL" NIL NIL NIL NIL NIL NIL NIL NIL)`,
	}, {
		name:   "quoted-specials escaped",
		header: `Subject: say "hi" \ there` + "\nFrom: \"Joe \\\"Q\\\" Public\" <joe@example.com>",
		want:   `(NIL "say \"hi\" \\ there" (("Joe \"Q\" Public" NIL "joe" "example.com")) (("Joe \"Q\" Public" NIL "joe" "example.com")) (("Joe \"Q\" Public" NIL "joe" "example.com")) NIL NIL NIL NIL NIL)`,
	}, {
		name:   "many quoted-specials: a literal",
		header: `Subject: "a" "b" "c"`,
		want:   "(NIL {11}\r\n\"a\" \"b\" \"c\" NIL NIL NIL NIL NIL NIL NIL NIL)",
	}, {
		name:   "white space in subject and names made one space, as Dovecot does",
		header: "Subject:  a long\n  subject\n\tfolded  \nFrom: \"Joe \t Q\" <joe@example.com>",
		want:   `(NIL "a long subject folded" (("Joe Q" NIL "joe" "example.com")) (("Joe Q" NIL "joe" "example.com")) (("Joe Q" NIL "joe" "example.com")) NIL NIL NIL NIL NIL)`,
	}, {
		name:   "encoded words stay encoded",
		header: "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nFrom: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>",
		want:   `(NIL "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=" (("=?ISO-8859-1?Q?J=F6rg?=" NIL "joerg" "example.de")) (("=?ISO-8859-1?Q?J=F6rg?=" NIL "joerg" "example.de")) (("=?ISO-8859-1?Q?J=F6rg?=" NIL "joerg" "example.de")) NIL NIL NIL NIL NIL)`,
	}, {
		name:   "UTF-8 without UTF8=ACCEPT: literals",
		header: "Subject: Grüße\nTo: Jörg <jörg@example.de>",
		want:   "(NIL {7}\r\nGrüße NIL NIL NIL (({5}\r\nJörg NIL {5}\r\njörg \"example.de\")) NIL NIL NIL NIL)",
	}, {
		name:   "UTF-8 with UTF8=ACCEPT: quoted",
		header: "Subject: Grüße\nTo: Jörg <jörg@example.de>",
		utf8:   true,
		want:   `(NIL "Grüße" NIL NIL NIL (("Jörg" NIL "jörg" "example.de")) NIL NIL NIL NIL)`,
	}, {
		name:   "invalid UTF-8 with UTF8=ACCEPT: a literal",
		header: "Subject: Gr\xfc\xdfe",
		utf8:   true,
		want:   "(NIL {5}\r\nGr\xfc\xdfe NIL NIL NIL NIL NIL NIL NIL NIL)",
	}, {
		name:   "missing local part and domain",
		header: "To: @example.com, joe@, Team: ;",
		want:   `(NIL NIL NIL NIL NIL ((NIL NIL "MISSING_MAILBOX" "example.com")(NIL NIL "joe" "MISSING_DOMAIN")(NIL NIL "Team" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := crlf(tt.header) + "\r\n\r\nbody\r\n"
			if tt.header == "" {
				raw = "\r\nbody\r\n"
			}
			p := parse(t, raw)
			got := render(t, func(w *bufio.Writer) { WriteEnvelope(w, &p.Envelope, tt.utf8) })
			if got != tt.want {
				t.Errorf("ENVELOPE\n got %q\nwant %q", got, tt.want)
			}
			v, err := readValue(got, tt.utf8)
			if err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			if err := checkEnvelope(v, &p.Envelope); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestEnvelopeNil(t *testing.T) {
	got := render(t, func(w *bufio.Writer) { WriteEnvelope(w, nil, false) })
	if want := "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A NUL in a display name goes as 0x80, in a literal.
	env := &message.Envelope{From: []message.Address{{Name: "a\x00b", Mailbox: "a", Host: "b"}}}
	got = render(t, func(w *bufio.Writer) { WriteEnvelope(w, env, true) })
	if want := "(NIL NIL (({3}\r\na\x80b NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

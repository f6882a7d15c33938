package message

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnvelope(t *testing.T) {
	joe := []Address{{Name: "Joe", Mailbox: "joe", Host: "example.com"}}
	tests := []struct {
		name   string
		header string // lines joined with CRLF; a blank line and a body follow
		want   Envelope
	}{{
		name: "all fields",
		header: "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n" +
			"From: Joe <joe@example.com>\n" +
			"Sender: list-owner@lists.example\n" +
			"Reply-To: list@lists.example\n" +
			"To: \"Doe, Jane\" <jane@example.org>, bob@example.net\n" +
			"Cc: carol@example.net\n" +
			"Bcc: dave@example.net\n" +
			"Subject: Hello\n" +
			"In-Reply-To: <a@example.com> <b@example.com>\n" +
			"Message-ID: <c@example.com>",
		want: Envelope{
			Date:    "Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
			Subject: "Hello",
			From:    joe,
			Sender:  []Address{{Mailbox: "list-owner", Host: "lists.example"}},
			ReplyTo: []Address{{Mailbox: "list", Host: "lists.example"}},
			To: []Address{
				{Name: "Doe, Jane", Mailbox: "jane", Host: "example.org"},
				{Mailbox: "bob", Host: "example.net"},
			},
			Cc:        []Address{{Mailbox: "carol", Host: "example.net"}},
			Bcc:       []Address{{Mailbox: "dave", Host: "example.net"}},
			InReplyTo: "<a@example.com> <b@example.com>",
			MessageID: "<c@example.com>",
		},
	}, {
		name:   "sender and reply-to default to from",
		header: "From: Joe <joe@example.com>\nReply-To:  \nSubject: x",
		want:   Envelope{Subject: "x", From: joe, Sender: joe, ReplyTo: joe},
	}, {
		name:   "missing from",
		header: "Sender: Joe <joe@example.com>\nTo: bob@example.net",
		want:   Envelope{Sender: joe, To: []Address{{Mailbox: "bob", Host: "example.net"}}},
	}, {
		name:   "empty group",
		header: "From: Joe <joe@example.com>\nTo: undisclosed-recipients:;",
		want: Envelope{From: joe, Sender: joe, ReplyTo: joe,
			To: []Address{{Mailbox: "undisclosed-recipients"}, {}}},
	}, {
		name:   "group with members between addresses",
		header: "From: Joe <joe@example.com>\nTo: a@x.example, Friends: b@y.example, \"C\" <c@z.example>; , d@w.example",
		want: Envelope{From: joe, Sender: joe, ReplyTo: joe, To: []Address{
			{Mailbox: "a", Host: "x.example"},
			{Mailbox: "Friends"},
			{Mailbox: "b", Host: "y.example"},
			{Name: "C", Mailbox: "c", Host: "z.example"},
			{},
			{Mailbox: "d", Host: "w.example"},
		}},
	}, {
		name:   "unclosed group",
		header: "From: Joe <joe@example.com>\nCc: Team: e@x.example",
		want: Envelope{From: joe, Sender: joe, ReplyTo: joe, Cc: []Address{
			{Mailbox: "Team"}, {Mailbox: "e", Host: "x.example"}, {},
		}},
	}, {
		name: "encoded words kept raw",
		header: "From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\n" +
			"To: \"=?UTF-8?B?w4lsaXNl?=\" <elise@example.fr>\n" +
			"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
		want: Envelope{
			Subject: "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
			From:    []Address{{Name: "=?ISO-8859-1?Q?J=F6rg?=", Mailbox: "joerg", Host: "example.de"}},
			Sender:  []Address{{Name: "=?ISO-8859-1?Q?J=F6rg?=", Mailbox: "joerg", Host: "example.de"}},
			ReplyTo: []Address{{Name: "=?ISO-8859-1?Q?J=F6rg?=", Mailbox: "joerg", Host: "example.de"}},
			To:      []Address{{Name: "=?UTF-8?B?w4lsaXNl?=", Mailbox: "elise", Host: "example.fr"}},
		},
	}, {
		name: "folded fields",
		header: "Subject: a long\n  subject\n\tfolded\n" +
			"From: Joe\n <joe@example.com>\n" +
			"To: a@x.example,\n b@y.example",
		want: Envelope{
			Subject: "a long  subject\tfolded",
			From:    joe, Sender: joe, ReplyTo: joe,
			To: []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}},
		},
	}, {
		name:   "8-bit and UTF-8 bytes kept",
		header: "Subject: Gr\xfc\xdfe, caf\xc3\xa9\nFrom: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbccher.example>",
		want: Envelope{
			Subject: "Gr\xfc\xdfe, caf\xc3\xa9",
			From:    []Address{{Name: "J\xc3\xb6rg", Mailbox: "j\xc3\xb6rg", Host: "b\xc3\xbccher.example"}},
			Sender:  []Address{{Name: "J\xc3\xb6rg", Mailbox: "j\xc3\xb6rg", Host: "b\xc3\xbccher.example"}},
			ReplyTo: []Address{{Name: "J\xc3\xb6rg", Mailbox: "j\xc3\xb6rg", Host: "b\xc3\xbccher.example"}},
		},
	}, {
		name:   "first of repeated fields, case-insensitive names, space before colon",
		header: "SUBJECT : first\nsubject: second\nfrom: Joe <joe@example.com>\nFrom: other@example.com",
		want:   Envelope{Subject: "first", From: joe, Sender: joe, ReplyTo: joe},
	}, {
		name:   "lines that are no fields are skipped",
		header: "From sender@example.com Mon Feb  7 21:52:25 1994\nnot a field\nSubject: kept",
		want:   Envelope{Subject: "kept"},
	}, {
		name:   "empty fields are NIL",
		header: "Subject:\nTo:\nDate: ",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := strings.ReplaceAll(tt.header, "\n", "\r\n") + "\r\n\r\nbody\r\n"
			p := parseString(t, raw)
			if !reflect.DeepEqual(p.Envelope, tt.want) {
				t.Errorf("envelope\n%+v\nwant\n%+v", p.Envelope, tt.want)
			}
		})
	}
}

func TestAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
	}{
		{"", nil},
		{"  ", nil},
		{"joe@example.com", []Address{{Mailbox: "joe", Host: "example.com"}}},
		{"Joe Q. Public <jqp@example.com>", []Address{{Name: "Joe Q. Public", Mailbox: "jqp", Host: "example.com"}}},
		{"\"Joe \\\"Q\\\" Public\" <jqp@example.com>", []Address{{Name: `Joe "Q" Public`, Mailbox: "jqp", Host: "example.com"}}},
		{"joe@example.com (Joe Public)", []Address{{Name: "Joe Public", Mailbox: "joe", Host: "example.com"}}},
		{"<joe@example.com> (Joe (the) Public)", []Address{{Name: "Joe (the) Public", Mailbox: "joe", Host: "example.com"}}},
		{"(Joe) <joe@example.com> (not this)", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.com"}}},
		{"a@b.example), c@d.example", []Address{{Mailbox: "a", Host: "b.example)"}, {Mailbox: "c", Host: "d.example"}}},
		{"Joe (comment) <joe@example.com>", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.com"}}},
		{"<@a.example,@b.example:joe@example.com>", []Address{{Adl: "@a.example,@b.example", Mailbox: "joe", Host: "example.com"}}},
		{"\"john doe\"@example.com", []Address{{Mailbox: `"john doe"`, Host: "example.com"}}},
		{"joe@[192.0.2.1]", []Address{{Mailbox: "joe", Host: "[192.0.2.1]"}}},
		{"MAILER-DAEMON", []Address{{Mailbox: "MAILER-DAEMON", Host: missingDomain}}},
		{"@example.com", []Address{{Mailbox: missingMailbox, Host: "example.com"}}},
		{"<>", []Address{{Mailbox: missingMailbox, Host: missingDomain}}},
		{"Joe <joe@example.com", []Address{{Name: "Joe", Mailbox: "joe", Host: "example.com"}}},
		{"Joe <joe@example.com, bob@example.net", []Address{
			{Name: "Joe", Mailbox: "joe", Host: "example.com"}, {Mailbox: "bob", Host: "example.net"}}},
		{"<a@x.example> <b@y.example>", []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}}},
		{"a@x.example,,, b@y.example,", []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}}},
		{"<a@x.example> trailing junk, b@y.example", []Address{{Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}}},
		{"G: ;", []Address{{Mailbox: "G"}, {}}},
		{": a@x.example;", []Address{{Mailbox: missingMailbox}, {Mailbox: "a", Host: "x.example"}, {}}},
		{"\"unterminated <a@x.example>", []Address{{Mailbox: `"unterminated <a@x.example>`, Host: missingDomain}}},
		{"(unterminated comment", nil},
	}
	for _, tt := range tests {
		if got := parseAddressList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseAddressList(%q)\n = %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestAddressListBounded(t *testing.T) {
	got := parseAddressList(strings.Repeat("a@b,", 3*maxAddresses))
	if len(got) != maxAddresses {
		t.Errorf("%d addresses, want the limit %d", len(got), maxAddresses)
	}
}

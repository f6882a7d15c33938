package wire

import (
	"bufio"
	"testing"
)

// dovecotTestMessage is the message of Dovecot's own BODYSTRUCTURE test
// (src/lib-imap/test-imap-bodystructure.c), stored with CRLF line ends. Dovecot counts sizes as
// if lines ended in CRLF, so its expected sizes and line counts hold here as they are.
const dovecotTestMessage = fooBarHeader + `Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii; foo="quoted\"string"
Content-ID: <foo@example.com>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: inline; foo=bar
Content-Description: hellodescription
Content-Language: en, fi, se
Content-Location: http://example.com/test.txt

hello

--foo bar
Content-Type: message/rfc822

From: sub@domain.org
To: sub-to1@domain.org, sub-to2@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

Sub MIME prologue
--sub1
Content-Type: text/html
Content-Transfer-Encoding: 8bit

<p>Hello world</p>

--sub1
Content-Type: text/plain
Content-Transfer-Encoding: ?invalid

Hello another world

--sub1--
Sub MIME epilogue

--foo bar--
Root MIME epilogue
`

// TestBodyStructure writes BODY and BODYSTRUCTURE for messages and compares them with what
// Dovecot writes for them, in the upper case this package writes MIME tokens in (Dovecot keeps
// the case of the header, and writes its defaults in lower case).
func TestBodyStructure(t *testing.T) {
	tests := []struct {
		name     string
		raw      string // LF line ends, turned to CRLF
		utf8     bool
		body     string // BODY
		extended string // BODYSTRUCTURE
	}{{
		name: "Dovecot's test message: nested message/rfc822, every extension field",
		raw:  dovecotTestMessage,
		body: `(("TEXT" "X-MYOWN" ("CHARSET" "us-ascii" "FOO" "quoted\"string") "<foo@example.com>" "hellodescription" "7BIT" 7 1)` +
			`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) ` +
			`(("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "8BIT" 20 1)("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 21 1) "ALTERNATIVE") 21) "MIXED")`,
		extended: `(("TEXT" "X-MYOWN" ("CHARSET" "us-ascii" "FOO" "quoted\"string") "<foo@example.com>" "hellodescription" "7BIT" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("INLINE" ("FOO" "bar")) ("en" "fi" "se") "http://example.com/test.txt")` +
			`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) ` +
			`(("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "8BIT" 20 1 NIL NIL NIL NIL)("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 21 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) ` +
			`"MIXED" ("BOUNDARY" "foo bar") NIL NIL NIL)`,
	}, {
		name: "imaptest fetch-bodystructure",
		raw: fooBarHeader + `--foo bar
Content-Type: text/x-myown; charset=us-ascii

hello

--foo bar--
`,
		body:     `(("TEXT" "X-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1) "MIXED")`,
		extended: `(("TEXT" "X-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "foo bar") NIL NIL NIL)`,
	}, {
		name:     "simple text, no MIME header: text/plain us-ascii",
		raw:      "From: a@example.com\nSubject: hi\n\nhello\nworld\n",
		body:     `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 2)`,
		extended: `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 2 NIL NIL NIL NIL)`,
	}, {
		name:     "empty body",
		raw:      "Subject: nothing\n\n",
		body:     `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)`,
		extended: `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)`,
	}, {
		name: "multipart/alternative",
		raw: `From: a@example.com
To: b@example.com
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9
--b1
Content-Type: text/html; charset=utf-8

<p>caf&eacute;</p>
--b1--
`,
		body:     `(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 9 1)("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1) "ALTERNATIVE")`,
		extended: `(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 9 1 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b1") NIL NIL NIL)`,
	}, {
		name: "multipart/mixed with an attachment",
		raw: `From: a@example.com
Subject: report
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

preamble
--outer
Content-Type: text/plain

See attached.

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="report.pdf"; size=6
Content-ID: <att1@example.com>
Content-Description: The report
Content-Language: en
Content-Location: report.pdf

JVBERi0K
--outer--
`,
		body: `(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 15 1)` +
			`("APPLICATION" "PDF" ("NAME" "report.pdf") "<att1@example.com>" "The report" "BASE64" 8) "MIXED")`,
		extended: `(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 15 1 NIL NIL NIL NIL)` +
			`("APPLICATION" "PDF" ("NAME" "report.pdf") "<att1@example.com>" "The report" "BASE64" 8 NIL ("ATTACHMENT" ("FILENAME" "report.pdf" "SIZE" "6")) ("en") "report.pdf") ` +
			`"MIXED" ("BOUNDARY" "outer") NIL NIL NIL)`,
	}, {
		name:     "application/octet-stream without parameters: NIL",
		raw:      "Content-Type: application/octet-stream\nContent-Disposition: attachment\n\nxyz",
		body:     `("APPLICATION" "OCTET-STREAM" NIL NIL NIL "7BIT" 3)`,
		extended: `("APPLICATION" "OCTET-STREAM" NIL NIL NIL "7BIT" 3 NIL ("ATTACHMENT" NIL) NIL NIL)`,
	}, {
		name: "message/rfc822 encoded in base64: a basic body",
		raw: `Content-Type: multipart/mixed; boundary=X

--X
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogaGkNCg0KaGkNCg==
--X--
`,
		body:     `(("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 28) "MIXED")`,
		extended: `(("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 28 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "X") NIL NIL NIL)`,
	}, {
		name: "multipart/digest: parts are message/rfc822",
		raw: `Content-Type: multipart/digest; boundary=D

--D

Subject: one

1
--D--
`,
		body:     `(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 17 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 1 1) 3) "DIGEST")`,
		extended: `(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 17 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 1 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "DIGEST" ("BOUNDARY" "D") NIL NIL NIL)`,
	}, {
		name: "message/global without UTF8=ACCEPT: literals",
		raw:  "Content-Type: message/global\n\nSubject: Grüße\nFrom: ü@example.com\n\nhi\n",
		body: "(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"7BIT\" 46 (NIL {7}\r\nGrüße ((NIL NIL {2}\r\nü \"example.com\")) ((NIL NIL {2}\r\nü \"example.com\")) ((NIL NIL {2}\r\nü \"example.com\")) NIL NIL NIL NIL NIL) " +
			`("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1) 4)`,
		extended: "(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"7BIT\" 46 (NIL {7}\r\nGrüße ((NIL NIL {2}\r\nü \"example.com\")) ((NIL NIL {2}\r\nü \"example.com\")) ((NIL NIL {2}\r\nü \"example.com\")) NIL NIL NIL NIL NIL) " +
			`("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)`,
	}, {
		name: "message/global with UTF8=ACCEPT: quoted",
		raw:  "Content-Type: message/global\n\nSubject: Grüße\nFrom: ü@example.com\n\nhi\n",
		utf8: true,
		body: `("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" 46 (NIL "Grüße" ((NIL NIL "ü" "example.com")) ((NIL NIL "ü" "example.com")) ((NIL NIL "ü" "example.com")) NIL NIL NIL NIL NIL) ` +
			`("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1) 4)`,
		extended: `("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" 46 (NIL "Grüße" ((NIL NIL "ü" "example.com")) ((NIL NIL "ü" "example.com")) ((NIL NIL "ü" "example.com")) NIL NIL NIL NIL NIL) ` +
			`("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)`,
	}, {
		name:     "parameter values: empty, 8-bit, RFC 2231 kept as given",
		raw:      "Content-Type: text/plain; format=\"\"; name*=utf-8''%C3%BC.txt\nContent-Disposition: attachment; filename=\"Grüße.txt\"\n\nx",
		body:     `("TEXT" "PLAIN" ("FORMAT" "" "NAME*" "utf-8''%C3%BC.txt" "CHARSET" "us-ascii") NIL NIL "7BIT" 1 1)`,
		extended: "(\"TEXT\" \"PLAIN\" (\"FORMAT\" \"\" \"NAME*\" \"utf-8''%C3%BC.txt\" \"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 1 NIL (\"ATTACHMENT\" (\"FILENAME\" {11}\r\nGrüße.txt)) NIL NIL)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, crlf(tt.raw))
			for _, extended := range []bool{false, true} {
				want := tt.body
				if extended {
					want = tt.extended
				}
				got := render(t, func(w *bufio.Writer) { WriteBodyStructure(w, p.Root, extended, tt.utf8) })
				if got != want {
					t.Errorf("extended %v\n got %q\nwant %q", extended, got, want)
				}
				v, err := readValue(got, tt.utf8)
				if err != nil {
					t.Fatalf("not well-formed: %v", err)
				}
				if err := checkBody(v, p.Root, extended); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

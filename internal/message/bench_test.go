package message

import (
	"encoding/base64"
	"strings"
	"testing"
)

// benchMessage returns a typical ~20 KiB message: multipart/mixed holding a multipart/alternative
// (text and HTML), a base64 attachment, and a forwarded message.
func benchMessage() string {
	var b strings.Builder
	b.WriteString(crlf(`Return-Path: <alice@example.com>
Received: from mail.example.com (mail.example.com [192.0.2.1])
	by mx.example.org with ESMTPS id 4Xyz; Mon, 3 Mar 2025 10:00:00 +0000
DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; h=from:to:subject:date;
	bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgbG9uZyBlbm91Z2gK
From: Alice Example <alice@example.com>
To: Bob <bob@example.org>, "Carol, C." <carol@example.org>
Cc: team: dave@example.org, erin@example.org;
Subject: =?UTF-8?Q?Quarterly_r=C3=A9port?=
Date: Mon, 3 Mar 2025 10:00:00 +0000
Message-ID: <20250303100000.1234@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-boundary"

--mixed-boundary
Content-Type: multipart/alternative; boundary="alt-boundary"

--alt-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

`))
	for range 40 {
		b.WriteString("The quarterly figures are attached; see the summary below for details.\r\n")
	}
	b.WriteString(crlf("--alt-boundary\nContent-Type: text/html; charset=utf-8\n\n"))
	for range 40 {
		b.WriteString("<p>The quarterly figures are attached; see the <b>summary</b> below.</p>\r\n")
	}
	b.WriteString(crlf("--alt-boundary--\n\n--mixed-boundary\nContent-Type: application/pdf; name=\"report.pdf\"\n" +
		"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"report.pdf\"\n\n"))
	enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("%PDF-1.7 binary content ", 400)))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	b.WriteString(crlf("--mixed-boundary\nContent-Type: message/rfc822\n\nFrom: Bob <bob@example.org>\nSubject: earlier\n\n"))
	for range 20 {
		b.WriteString("> An earlier message, quoted in the forward.\r\n")
	}
	b.WriteString("--mixed-boundary--\r\n")
	return b.String()
}

func BenchmarkParse(b *testing.B) {
	raw := benchMessage()
	r := strings.NewReader(raw)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(r, int64(len(raw))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalStructure(b *testing.B) {
	raw := benchMessage()
	p, err := Parse(strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		b.Fatal(err)
	}
	_, structure, err := p.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalStructure(structure); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchMessage(t *testing.T) {
	raw := benchMessage()
	if len(raw) < 18<<10 || len(raw) > 22<<10 {
		t.Errorf("benchmark message of %d octets, want about 20 KiB", len(raw))
	}
	p := parseString(t, raw)
	if got := dumpTypes(p.Root); got != `root multipart/mixed boundary="mixed-boundary"
1 multipart/alternative boundary="alt-boundary"
1.1 text/plain charset="utf-8"
1.2 text/html charset="utf-8"
2 application/pdf name="report.pdf"
3 message/rfc822
3.msg text/plain charset="us-ascii"
` {
		t.Errorf("structure:\n%s", got)
	}
}

// BenchmarkExtractText extracts the searchable text of the typical message: what delivery adds
// to Parse for the full-text index.
func BenchmarkExtractText(b *testing.B) {
	raw := benchMessage()
	r := strings.NewReader(raw)
	p, err := Parse(r, int64(len(raw)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ExtractText(r, p.Root); err != nil {
			b.Fatal(err)
		}
	}
}

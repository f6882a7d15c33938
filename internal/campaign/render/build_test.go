package render

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"posthorn/internal/mailauth"
)

func renderMessage(t *testing.T, camp *Campaign, r Recipient, links Links) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := camp.Render(&b, r, links); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBuiltMessageParsesBack(t *testing.T) {
	c := testContent(t)
	c.Subject = "Grüße aus Köln, {{.Name}}: das große Dezember-Update mit allen Neuigkeiten des Jahres"
	c.HTML = `<html><body><p>Hallo {{.Name}}, <a href="https://example.org/x">hier</a>. Eine lange Zeile ` + strings.Repeat("mit vielen Wörtern ", 10) + `=Ende</p></body></html>`
	camp := compile(t, c)
	links := newTestLinks("tok1")
	raw := renderMessage(t, camp, recipient(t, "jörg@example.net", `Jörg "J" Müller`, nil), links)

	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d octets", len(line))
		}
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in the message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != `Grüße aus Köln, Jörg "J" Müller: das große Dezember-Update mit allen Neuigkeiten des Jahres` {
		t.Errorf("subject %q (%v), raw %q", subject, err, h.Get("Subject"))
	}
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Example News" || from.Address != "news@example.org" {
		t.Errorf("From %q: %+v %v", h.Get("From"), from, err)
	}
	to, err := mail.ParseAddress(h.Get("To"))
	if err != nil || to.Name != `Jörg "J" Müller` || to.Address != "jörg@example.net" {
		t.Errorf("To %q: %+v %v", h.Get("To"), to, err)
	}
	for name, want := range map[string]string{
		"Reply-To":              "editor@example.org",
		"Date":                  "Mon, 07 Dec 2026 10:00:00 +0000",
		"List-Id":               "Monthly News <monthly-news.example.org>",
		"List-Unsubscribe":      "<https://news.example.org/u/tok1>, <mailto:unsubscribe+tok1@example.org>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Feedback-ID":           "c42:l7:posthorn",
		"MIME-Version":          "1.0",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID %q", id)
	}
	if h.Get("Precedence") != "" {
		t.Error("Precedence written")
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	want, err := camp.RenderParts(recipient(t, "jörg@example.net", `Jörg "J" Müller`, nil), links)
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for i, wantPart := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=utf-8", want.Text}, {"text/html; charset=utf-8", want.HTML}} {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if part.Header.Get("Content-Type") != wantPart.ctype || part.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %d header %v", i, part.Header)
		}
		encoded, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(encoded), "\r\n") {
			if len(line) > 76 {
				t.Errorf("part %d: quoted-printable line of %d characters", i, len(line))
			}
		}
		decoded, err := io.ReadAll(newQPReader(encoded))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimRight(string(decoded), "\r\n"); got != strings.TrimRight(string(wantPart.body), "\r\n") {
			t.Errorf("part %d decodes to\n%q\nwant\n%q", i, got, wantPart.body)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after two parts: %v", err)
	}
}

func TestBuildTextOnly(t *testing.T) {
	c := testContent(t)
	c.Text = "Hello {{.Name}}\nline two"
	camp := compile(t, c)
	m, err := mail.ReadMessage(bytes.NewReader(renderMessage(t, camp, recipient(t, "a@example.net", "A", nil), newTestLinks("x"))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(newQPReader(mustReadAll(t, m.Body)))
	if m.Header.Get("Content-Type") != "text/plain; charset=utf-8" || string(body) != "Hello A\r\nline two\r\n" {
		t.Errorf("%v %q", m.Header, body)
	}
}

var builtFields = map[string]bool{
	"From": true, "Reply-To": true, "To": true, "Subject": true, "Date": true, "Message-ID": true,
	"List-Id": true, "List-Unsubscribe": true, "List-Unsubscribe-Post": true, "Feedback-ID": true,
	"MIME-Version": true, "Content-Type": true,
}

func TestHeaderInjectionIsImpossible(t *testing.T) {
	c := testContent(t)
	c.Subject = "Hi {{.Name}} {{attr \"note\"}}"
	c.HTML = "<p>{{.Name}}</p>"
	c.FromName = "News\r\nBcc: victim@example.com"
	camp := compile(t, c)
	for _, evil := range []string{
		"x\r\nBcc: victim@example.com",
		"x\nBcc: victim@example.com",
		"x\rBcc: victim@example.com",
		"x\u2028Bcc: victim@example.com",
		"x\u0085Bcc: victim@example.com",
		"x\x00\x1b\x7fBcc: victim@example.com",
		"\r\n\r\nbody injection",
	} {
		r := recipient(t, "ann@example.net", evil, map[string]any{"note": evil})
		raw := renderMessage(t, camp, r, newTestLinks("x"))
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%q: %v", evil, err)
		}
		if len(m.Header["Bcc"]) != 0 {
			t.Fatalf("%q added a Bcc field:\n%s", evil, raw)
		}
		// Every header line is one of the fields Build writes, or the continuation of one.
		header := raw[:bytes.Index(raw, []byte("\r\n\r\n"))]
		for _, line := range strings.Split(string(header), "\r\n") {
			name, _, _ := strings.Cut(line, ":")
			if !strings.HasPrefix(line, " ") && !builtFields[name] {
				t.Fatalf("%q: header line %q", evil, line)
			}
		}
		if len(m.Header) != 12 {
			t.Errorf("%q: %d fields, want 12: %v", evil, len(m.Header), m.Header)
		}
	}
	h := Header{From: mustAddress(t, "a@example.org"), To: mustAddress(t, "b@example.org"), Subject: "x"}
	for name, bad := range map[string]func(*Header){
		"url with CRLF":     func(h *Header) { h.UnsubscribeURL = "https://x.example/u\r\nBcc: v@example.com" },
		"url not https":     func(h *Header) { h.UnsubscribeURL = "http://x.example/u" },
		"url with bracket":  func(h *Header) { h.UnsubscribeURL = "https://x.example/u>, <https://evil.example/" },
		"list id with LF":   func(h *Header) { h.ListID = "news.example.org>\nBcc: v@example.com" },
		"message id":        func(h *Header) { h.MessageID = "a@b>\r\nBcc: v@example.com" },
		"feedback id":       func(h *Header) { h.FeedbackID = "a:b\r\nBcc: v@example.com" },
		"address with CRLF": func(h *Header) { h.To.Local = "b\r\nbcc" },
	} {
		hh := h
		bad(&hh)
		var out bytes.Buffer
		if err := Build(&out, hh, nil, []byte("x")); err == nil || out.Len() != 0 {
			t.Errorf("%s: Build wrote %q, err %v", name, out.String(), err)
		}
	}
}

func TestLongHeadersAreFolded(t *testing.T) {
	h := Header{
		From: mustAddress(t, "a@example.org"), To: mustAddress(t, "b@example.org"),
		Subject:           strings.Repeat("word ", 40),
		UnsubscribeURL:    "https://news.example.org/u/" + strings.Repeat("a", 60),
		UnsubscribeMailto: mustAddress(t, "unsubscribe+"+strings.Repeat("b", 40)+"@example.org"),
		Date:              time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
	}
	var out bytes.Buffer
	if err := Build(&out, h, nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	header := out.String()[:strings.Index(out.String(), "\r\n\r\n")]
	for _, line := range strings.Split(header, "\r\n") {
		if len(line) > foldWidth && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("unfolded line of %d: %q", len(line), line)
		}
		if strings.TrimSpace(line) == "" {
			t.Errorf("white-space-only line in header")
		}
	}
	m, err := mail.ReadMessage(&out)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Subject"); got != strings.TrimSpace(h.Subject) {
		t.Errorf("unfolded subject %q", got)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "<"+h.UnsubscribeURL+">, <mailto:"+h.UnsubscribeMailto.String()+">" {
		t.Errorf("unfolded List-Unsubscribe %q", got)
	}
}

func TestDKIMSignatureCoversListUnsubscribe(t *testing.T) {
	keys, err := mailauth.GenerateDKIMKeys("example.org", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]string{}
	for _, k := range keys {
		name, value, err := mailauth.DKIMRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		records[name] = value
	}
	c := testContent(t)
	c.HTML = "<p>Hello {{.Name}}</p>"
	camp := compile(t, c)
	raw := renderMessage(t, camp, recipient(t, "ann@example.net", "Ann", nil), newTestLinks("t1"))
	sigs, err := mailauth.SignDKIM(bytes.NewReader(raw), mailauth.SigningKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 {
		t.Fatalf("%d signatures", len(sigs))
	}
	for _, sig := range sigs {
		tags := strings.ToLower(strings.Join(strings.Fields(sig), ""))
		i := strings.Index(tags, ";h=")
		if i < 0 {
			t.Fatalf("no h= in %s", sig)
		}
		hTag, _, _ := strings.Cut(tags[i+3:], ";")
		fields := ":" + hTag + ":"
		for _, f := range []string{"list-unsubscribe", "list-unsubscribe-post", "list-id", "from", "subject", "to", "message-id"} {
			if !strings.Contains(fields, ":"+f+":") {
				t.Errorf("h=%s lacks %s", hTag, f)
			}
		}
	}
	signed := append([]byte(strings.Join(sigs, "")), raw...)
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if v, ok := records[name]; ok {
				return []string{v}, nil
			}
			return nil, fmt.Errorf("no record %s", name)
		},
	})
	if err != nil || len(verifications) != 2 {
		t.Fatalf("verify: %v %v", verifications, err)
	}
	for _, v := range verifications {
		if v.Err != nil {
			t.Errorf("signature of %s does not verify: %v", v.Domain, v.Err)
		}
	}
}

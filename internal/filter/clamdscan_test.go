package filter

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/clamdtest"
)

// uuencode encodes data as POSIX uuencode, begin and end lines included.
func uuencode(name string, data []byte) string {
	var b strings.Builder
	b.WriteString("begin 644 " + name + "\r\n")
	enc := func(c byte) byte {
		if c == 0 {
			return '`'
		}
		return c + 32
	}
	for len(data) > 0 {
		n := min(45, len(data))
		line := append([]byte{}, data[:n]...)
		for len(line)%3 != 0 {
			line = append(line, 0)
		}
		b.WriteByte(enc(byte(n)))
		for i := 0; i < len(line); i += 3 {
			b.WriteByte(enc(line[i] >> 2))
			b.WriteByte(enc((line[i]<<4 | line[i+1]>>4) & 63))
			b.WriteByte(enc((line[i+1]<<2 | line[i+2]>>6) & 63))
			b.WriteByte(enc(line[i+2] & 63))
		}
		b.WriteString("\r\n")
		data = data[n:]
	}
	b.WriteString("`\r\nend\r\n")
	return b.String()
}

// TestClamdAttachmentsOnly: with AttachmentsOnly, the messages that can carry malware still go
// to a real clamd, whole, and the EICAR file in them is caught; a message of text alone is not
// sent: the EICAR string in its text, which clamd finds when it is sent, passes, and with
// clamd stopped it is accepted while every message that goes to clamd is temp-failed.
func TestClamdAttachmentsOnly(t *testing.T) {
	clamd := clamdtest.Start(t)
	eicar, err := os.ReadFile(filepath.Join(clamd.Samples, "eicar.com"))
	if err != nil {
		t.Fatal(err)
	}
	eicar = bytes.TrimRight(eicar, "\r\n")
	sample := func(file string) []byte {
		data, err := os.ReadFile(filepath.Join(clamd.Samples, file))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	head := "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
	textOnly := []byte(head + "Content-Type: text/plain\r\n\r\nthe test string: " + string(eicar) + "\r\n")
	alternative := []byte(head + "Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" +
		string(eicar) + "\r\n--B\r\nContent-Type: text/html\r\n\r\n<p>" + string(eicar) + "</p>\r\n--B--\r\n")
	namedText := []byte(head + "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--B\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n\r\n" + string(eicar) + "\r\n--B--\r\n")
	uuencoded := []byte(head + "Content-Type: text/plain\r\n\r\nthe file:\r\n\r\n" + uuencode("eicar.com", eicar) + "\r\nbye\r\n")

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &Filter{Logger: logger, Clamd: &Clamd{Address: clamd.Address, Timeout: 5 * time.Second}}
	t.Cleanup(func() { f.Clamd.Close() })
	verdict := func(data []byte) Verdict {
		t.Helper()
		tx := f.Mail(context.Background(), Envelope{IP: net.ParseIP("192.0.2.1"), From: "a@example.org"})
		defer tx.Close()
		return tx.Data(context.Background(), bytes.NewReader(data), int64(len(data)), []int64{1})
	}
	// Sent, as every message is without the option: clamd finds the test string in the text.
	if v := verdict(textOnly); v.Result() != "virus" {
		t.Fatalf("text only, every message scanned: %+v", v)
	}

	f.Clamd.AttachmentsOnly = true
	for name, data := range map[string][]byte{
		"eicar-attachment.eml": sample("eicar-attachment.eml"), "eicar-zip-attachment.eml": sample("eicar-zip-attachment.eml"),
		"text part named as a file": namedText,
	} {
		if v := verdict(data); v.Action != Reject || v.Result() != "virus" {
			t.Errorf("%s: %+v", name, v)
		}
	}
	for name, data := range map[string][]byte{"text only": textOnly, "alternative of text": alternative} {
		if v := verdict(data); v.Action != Accept || len(v.Reasons) != 0 {
			t.Errorf("%s, not sent: %+v", name, v)
		}
	}

	clamd.Stop()
	for name, data := range map[string][]byte{"text only": textOnly, "alternative of text": alternative, "clean.eml": sample("clean.eml")} {
		if v := verdict(data); v.Action != Accept || len(v.Reasons) != 0 {
			t.Errorf("%s, clamd stopped: %+v, want it not sent", name, v)
		}
	}
	for name, data := range map[string][]byte{"eicar-attachment.eml": sample("eicar-attachment.eml"), "uuencoded file in text": uuencoded, "text part named as a file": namedText} {
		if v := verdict(data); v.Action != TempFail {
			t.Errorf("%s, clamd stopped: %+v, want it sent", name, v)
		}
	}
}

func TestInlineFileStart(t *testing.T) {
	for line, want := range map[string]bool{
		"begin 644 eicar.com\r\n":                           true,
		"begin 0755 tool\n":                                 true,
		"=ybegin line=128 size=68 ":                         true,
		"(This file must be converted with BinHex 4.0)\r\n": true,
		"begin the meeting at 9\r\n":                        false,
		"begin 9 lives\r\n":                                 false,
		" begin 644 x\r\n":                                  false,
	} {
		if got := isInlineFileStart([]byte(line)); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
	if !hasInlineFile(strings.NewReader("hello\r\n" + strings.Repeat("x", 40000) + "\r\nbegin 644 a\r\nM\r\n")) {
		t.Error("a begin line after a long line not found")
	}
	if hasInlineFile(strings.NewReader(strings.Repeat("y", 20000) + "begin 644 a\r\n")) {
		t.Error("a begin inside a long line taken for one at its start")
	}
}

package main

import (
	"bytes"
	"context"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSink talks to the sink with Go's net/smtp client: recipients are accepted, deferred or
// rejected by local part, counted, and the accepted ones recorded with the Message-ID; the
// first message (--keep 1) is written whole.
func TestSink(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	record := filepath.Join(t.TempDir(), "record")
	keepDir := t.TempDir()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runSink(context.Background(), sinkOptions{listen: addr, expect: 2, record: record, keepDir: keepDir, keep: 1}, &stdout, &stderr)
	}()
	var c *smtp.Client
	for i := 0; ; i++ {
		if c, err = smtp.Dial(addr); err == nil {
			break
		}
		if i > 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer c.Close()
	for i, msgID := range []string{"<m1@example.org>", "<m2@example.org>"} {
		if err := c.Mail("a@example.org"); err != nil {
			t.Fatal(err)
		}
		for rcpt, want := range map[string]string{"ok@x.example": "", "deferme@x.example": "451",
			"reject.me@x.example": "550", "also@y.example": ""} {
			err := c.Rcpt(rcpt)
			switch {
			case want == "" && err != nil:
				t.Errorf("RCPT %s: %v", rcpt, err)
			case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
				t.Errorf("RCPT %s: %v, want %s", rcpt, err, want)
			}
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("Message-ID: " + msgID + "\r\nSubject: x\r\n\r\nbody\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); !strings.Contains(got, "2 messages, 4 recipients, 2 deferred, 2 rejected, 1 connections") {
		t.Errorf("report %q", got)
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || !strings.Contains(string(b), "ok@x.example\t<m1@example.org>") ||
		!strings.Contains(string(b), "also@y.example\t<m2@example.org>") {
		t.Errorf("record %q", b)
	}
	if b, err := os.ReadFile(filepath.Join(keepDir, "1.eml")); err != nil || string(b) != "Message-ID: <m1@example.org>\r\nSubject: x\r\n\r\nbody\r\n" {
		t.Errorf("kept message = %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(keepDir); len(entries) != 1 {
		t.Errorf("%d messages kept, want 1", len(entries))
	}
}

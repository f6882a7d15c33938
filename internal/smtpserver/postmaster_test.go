package smtpserver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestBarePostmaster: RFC 5321 §4.5.1 has "RCPT TO:<Postmaster>" (no domain, any case) accepted;
// it reaches the postmaster of the primary domain (example.org for mx.example.org). A message
// that contains the same command line, sent with DATA or BDAT, is stored as it was sent.
func TestBarePostmaster(t *testing.T) {
	h := newHarness(t)
	if _, err := h.store.AddAlias(context.Background(), "postmaster@example.org", []string{"alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	body := "Subject: to the postmaster\r\n\r\nRCPT TO:<postmaster>\r\nBDAT 5\r\n..\r\nDATA\r\n"
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<postmaster>", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, body+".\r\n")
	c.expect("250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO: <PostMaster>", "250 ")
	stored := strings.ReplaceAll(body, "\r\n..\r\n", "\r\n.\r\n") // BDAT has no dot-stuffing
	c.send(fmt.Sprintf("BDAT %d LAST", len(stored)))
	io.WriteString(c.c, stored)
	c.expect("250 ")
	// Pipelined.
	io.WriteString(c.c, "MAIL FROM:<a@remote.example>\r\nRCPT TO:<POSTMASTER>\r\nRSET\r\n")
	c.expect("250 ")
	c.expect("250 ")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")

	got := h.bodies("alice@example.org")
	if len(got) != 2 {
		t.Fatalf("alice has %d messages, want 2", len(got))
	}
	want := "\r\nSubject: to the postmaster\r\n\r\nRCPT TO:<postmaster>\r\nBDAT 5\r\n.\r\nDATA\r\n"
	for i, m := range got {
		if !strings.HasSuffix(m, want) || !strings.Contains(m, "for <postmaster@example.org>") {
			t.Errorf("message %d:\n%q", i, m)
		}
	}
}

// TestBarePostmasterUnknown: without a postmaster for the primary domain the bare postmaster
// is an unknown user (550 5.1.1), not a syntax error; a path that only starts with
// "postmaster" is not taken for it.
func TestBarePostmasterUnknown(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<postmaster>", "550 5.1.1 ")
	c.cmd("RCPT TO:<postmasterx>", "501 ")
	c.cmd("QUIT", "221 ")
}

func TestPrimaryDomain(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ hostname, want string }{
		{"mx.example.org", "example.org"},         // the parent of the host name
		{"catch.example", "catch.example"},        // the host name itself
		{"a.b.catch.example.", "catch.example"},   // further up
		{"mail.elsewhere.example", "example.org"}, // the first domain added
	} {
		h := newHarness(t, func(s *Server) { s.Hostname = tc.hostname })
		if got := h.srv.primaryDomain(ctx); got != tc.want {
			t.Errorf("host name %s: primary domain %q, want %q", tc.hostname, got, tc.want)
		}
	}
}

// TestPostmasterConnFeed: the rewrite is the same however the client's bytes are split, and it
// touches only command lines.
func TestPostmasterConnFeed(t *testing.T) {
	in := "EHLO x\r\nMAIL FROM:<a@b>\r\nrcpt to:<postmaster>\r\nDATA\r\nRCPT TO:<postmaster>\r\n.\n.\r\n..\r\n\r\n.\r\n" +
		"RCPT TO:<Postmaster>\r\nBDAT 22\r\nRCPT TO:<postmaster>\r\nRCPT TO:<postmaster>\r\nSTARTTLS\r\nRCPT TO:<postmaster>\r\n"
	want := "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<postmaster@example.org>\r\nDATA\r\nRCPT TO:<postmaster>\r\n.\n.\r\n..\r\n\r\n.\r\n" +
		"RCPT TO:<postmaster@example.org>\r\nBDAT 22\r\nRCPT TO:<postmaster>\r\nRCPT TO:<postmaster@example.org>\r\nSTARTTLS\r\nRCPT TO:<postmaster>\r\n"
	for _, size := range []int{1, 2, 3, 7, len(in)} {
		c := &postmasterConn{primary: func() string { return "example.org" }}
		for i := 0; i < len(in); i += size {
			c.feed([]byte(in[i:min(i+size, len(in))]))
		}
		if got := string(c.out) + string(c.line); got != want {
			t.Errorf("pieces of %d:\ngot  %q\nwant %q", size, got, want)
		}
	}
}

// BenchmarkPostmasterConn: what the rewriting layer costs a plain-text session's DATA, against
// a plain copy of the same bytes in the same run ("copy").
//
//	go test ./internal/smtpserver -run '^$' -bench PostmasterConn
func BenchmarkPostmasterConn(b *testing.B) {
	msg := []byte("MAIL FROM:<a@remote.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n" +
		strings.Repeat(strings.Repeat("x", 76)+"\r\n", 100<<10/78) + ".\r\n")
	b.Run("layer", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		c := &postmasterConn{primary: func() string { return "example.org" }}
		for b.Loop() {
			for i := 0; i < len(msg); i += 32 << 10 {
				c.feed(msg[i:min(i+32<<10, len(msg))])
				c.out = c.out[:0]
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		var out []byte
		for b.Loop() {
			for i := 0; i < len(msg); i += 32 << 10 {
				out = append(out[:0], msg[i:min(i+32<<10, len(msg))]...)
			}
		}
	})
}

// FuzzPostmasterConn: the layer's output does not depend on how the input is split, and the
// layer changes nothing when no bare postmaster could be meant.
func FuzzPostmasterConn(f *testing.F) {
	for _, s := range []string{"DATA\r\n.\r\nRCPT TO:<postmaster>\r\n", "DATA\r\nx\r\n\r\n.\r\r\n.\r\nQUIT\r\n", "BDAT 3\r\nabcRCPT TO:<postmaster>\r\n",
		"STARTTLS\r\n\x16\x03\x01", "DATA\r\n.\n.\r\n..\r\n.\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		whole := &postmasterConn{primary: func() string { return "example.org" }}
		whole.feed([]byte(in))
		bytewise := &postmasterConn{primary: func() string { return "example.org" }}
		for i := range len(in) {
			bytewise.feed([]byte{in[i]})
		}
		got, got1 := string(whole.out)+string(whole.line), string(bytewise.out)+string(bytewise.line)
		if got != got1 {
			t.Fatalf("split changes the output:\n%q\n%q", got, got1)
		}
		if !strings.Contains(strings.ToLower(in), "postmaster>") && got != in {
			t.Fatalf("changed %q to %q", in, got)
		}
	})
}

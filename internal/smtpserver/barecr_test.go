package smtpserver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"posthorn/internal/store"
)

// bareCRBodies are messages with a CR that is not part of CRLF (RFC 5321 §2.3.8), among them the
// "\r.\r" smuggling sequence.
var bareCRBodies = []string{
	"Subject: bare cr\r\n\r\nline\r.\rMAIL FROM:<evil@remote.example>\r\n",
	"Subject: bare cr\r\n\r\nold mac\rline ends\r\n",
	"Subject: bare\r cr in the header\r\n\r\nbody\r\n",
}

// TestMXRefusesBareCR: the MX refuses a message with a bare CR at the end of DATA and of BDAT
// with 554 5.6.0, stores nothing, and goes on serving the session.
func TestMXRefusesBareCR(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	for _, body := range bareCRBodies {
		c.expectBareCRRefused("a@remote.example", "alice@example.org", body)
	}
	// The session is in step: a clean message after them is delivered.
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: clean\r\n\r\nbody\r\n.")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")
	if got := h.bodies("alice@example.org"); len(got) != 1 || !strings.Contains(got[0], "Subject: clean") {
		t.Fatalf("stored %q, want only the clean message", got)
	}
}

// TestSubmissionRefusesBareCR: a submitted message with a bare CR is refused at the end of DATA
// and BDAT, so nothing is queued that the outbound SMTP client could never send.
func TestSubmissionRefusesBareCR(t *testing.T) {
	h := newSubmissionHarness(t)
	c := h.login("alice@example.org")
	for _, body := range bareCRBodies {
		c.expectBareCRRefused("alice@example.org", "carol@remote.example",
			"From: <alice@example.org>\r\nTo: <carol@remote.example>\r\n"+body)
	}
	c.cmd("QUIT", "221 ")
	queue, err := h.store.(store.QueueStore).ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 0 {
		t.Fatalf("%d rows queued, want none: %+v", len(queue), queue)
	}
}

// expectBareCRRefused sends msg from one sender to one recipient with DATA and then with BDAT,
// and expects it refused both times for its bare CR.
func (c *conn) expectBareCRRefused(from, to, msg string) {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", "250 ")
	c.cmd("RCPT TO:<"+to+">", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, msg+".\r\n")
	if reply := c.expect("554 5.6.0 "); !strings.Contains(reply[0], "bare CR") {
		c.t.Errorf("reply %q does not name the bare CR", reply)
	}
	c.cmd("MAIL FROM:<"+from+">", "250 ")
	c.cmd("RCPT TO:<"+to+">", "250 ")
	c.send(fmt.Sprintf("BDAT %d LAST", len(msg)))
	io.WriteString(c.c, msg)
	c.expect("554 5.6.0 ")
}

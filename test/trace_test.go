package test

import (
	"encoding/json"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// TestTrace: a message by SMTP to a local user and one submitted for a remote address (sent
// through [delivery] smarthost to a sink) are found by `posthorn trace search --to` and laid
// out step by step by `trace show`: received and delivered to INBOX; received, queued and
// delivered with the sink's reply. The server stores the mail log in batches, so the test
// polls.
func TestTrace(t *testing.T) {
	t.Parallel()
	sink := startCountingSink(t, 0)
	sink.mu.Lock()
	sink.open = true
	sink.mu.Unlock()
	s := NewServer(t, "[delivery]\nsmarthost = \""+sink.addr+"\"\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("alice password\n", "user", "add", "alice@example.org", "--password-stdin")

	inbound := "From: bob@sender.example\r\nTo: alice@example.org\r\nSubject: hello\r\nMessage-ID: <in-1@sender.example>\r\n\r\nhi\r\n"
	if err := smtpTransactionAt(s.SMTP, "bob@sender.example", "alice@example.org", inbound); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(s.Submission)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "alice@example.org", "alice password", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	outbound := "From: alice@example.org\r\nTo: ann@remote.example\r\nSubject: out\r\nMessage-ID: <out-1@example.org>\r\n\r\nbye\r\n"
	if err := smtpTransaction(c, "alice@example.org", "ann@remote.example", outbound); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	// The local message: received, delivered to INBOX.
	localID := waitTraced(t, s, "alice@example.org", 1)
	show := s.MustCLI("", "trace", "show", localID)
	for _, want := range []string{"received from bob@sender.example for alice@example.org", "delivered to alice@example.org, mailbox INBOX"} {
		if !strings.Contains(show, want) {
			t.Errorf("trace show %s lacks %q:\n%s", localID, want, show)
		}
	}
	// The remote one: received and queued, then delivered at the sink with its 250.
	remoteID := waitTraced(t, s, "ann@remote.example", 2)
	show = s.MustCLI("", "trace", "show", "<out-1@example.org>")
	for _, want := range []string{"received from alice@example.org for ann@remote.example", "queued",
		"delivered to ann@remote.example at ", ": 250"} {
		if !strings.Contains(show, want) {
			t.Errorf("trace show %s lacks %q:\n%s", remoteID, want, show)
		}
	}
	if strings.Contains(show, "mailbox") {
		t.Errorf("the remote message names a mailbox:\n%s", show)
	}
}

// waitTraced polls `trace search --to rcpt --json` until n events are stored for it, and
// returns their message's id.
func waitTraced(t *testing.T, s *Server, rcpt string, n int) string {
	t.Helper()
	var found struct {
		Events []struct {
			Event   string `json:"event"`
			Message string `json:"message"`
		} `json:"events"`
	}
	waitUntil(t, 30*time.Second, fmt.Sprintf("%d events for %s", n, rcpt), func() bool {
		out := s.MustCLI("", "trace", "search", "--to", rcpt, "--since", "1h", "--json")
		if err := json.Unmarshal([]byte(out), &found); err != nil {
			t.Fatalf("trace search: %v: %s", err, out)
		}
		return len(found.Events) >= n
	})
	if found.Events[len(found.Events)-1].Event != "received" {
		t.Errorf("oldest event for %s: %+v", rcpt, found.Events)
	}
	return found.Events[0].Message
}

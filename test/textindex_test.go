package test

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSMTPDeliveriesAreIndexed: messages delivered by SMTP reach the full-text index through
// the background indexer (the metric counts them), and curl's IMAP SEARCH finds them by body
// text, and only them.
func TestSMTPDeliveriesAreIndexed(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl")
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	for _, text := range []string{"the zebra crossing", "a quiet giraffe", "zebras again"} {
		sendPlain(t, s.SMTP, "sender@remote.example", "alice@example.org",
			"From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: animals\r\n\r\n"+text+"\r\n")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		v := metricValue(httpGet(t, "http://"+s.HTTP+"/metrics"), "posthorn_text_index_backlog_indexed_total")
		if v == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexed by the background indexer: %q, want 3", v)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(curl, "-sS", "--max-time", "10", "--user", "alice@example.org:correct horse battery",
		"imap://"+s.IMAP+"/INBOX?BODY%20%22ZEBRA%22").CombinedOutput()
	if err != nil {
		t.Fatalf("curl search: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "* SEARCH 1 3" {
		t.Errorf("curl SEARCH BODY ZEBRA: %q, want \"* SEARCH 1 3\"", got)
	}
}

package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSubmissionRecipientsAreCorrespondents: whom an account writes to through submission is
// no first-time sender when they write back; a stranger still is (spam explain shows the
// first_time_sender signal for one and not the other).
func TestSubmissionRecipientsAreCorrespondents(t *testing.T) {
	s := NewServer(t, "[filter.spam]\ntrain_interval_seconds = 1\n")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("alice password\n", "user", "add", "alice@example.org", "--password-stdin")
	s.Start()
	// A first correspondent by receiving: an account that has none gets no first-time points.
	if out, code := swaks(t, s, "--from", "known@remote.example", "--to", "alice@example.org",
		"--header", "From: known@remote.example", "--header", "Subject: hello", "--body", "Hello Alice"); code != 0 {
		t.Fatalf("swaks to the MX: exit %d\n%s", code, out)
	}
	if out, code := submitSwaks(t, s.Submission, "-tls", "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", "alice password", "--from", "alice@example.org", "--to", "friend@remote.example",
		"--header", "From: alice@example.org", "--header", "Subject: lunch?"); code != 0 {
		t.Fatalf("swaks to submission: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	explain := func(from string) string {
		t.Helper()
		path := filepath.Join(dir, "m.eml")
		msg := "From: " + from + "\r\nTo: alice@example.org\r\nSubject: re: lunch?\r\n\r\nYes, at noon.\r\n"
		if err := os.WriteFile(path, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		return s.MustCLI("", "spam", "explain", path, "--account", "alice@example.org")
	}
	// Correspondents are written on the trainer's rounds: wait until the one received from
	// is known (a stranger then gets the signal), then look at the one written to.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := explain("stranger@remote.example")
		if strings.Contains(out, "first_time_sender") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stranger is no first-time sender:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := explain("friend@remote.example"); strings.Contains(out, "first_time_sender") {
		t.Errorf("the recipient of submitted mail is a first-time sender:\n%s", out)
	}
}

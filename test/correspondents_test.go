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
	// Correspondents are written on the trainer's rounds, the one received from and the one
	// written to not necessarily in the same round: wait for each. First the one received from
	// (from then on the account has correspondents, and a stranger gets the signal) ...
	waitUntil(t, 15*time.Second, "a stranger to be a first-time sender", func() bool {
		return strings.Contains(explain("stranger@remote.example"), "first_time_sender")
	})
	// ... then the one written to, who must lose the signal.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := explain("friend@remote.example")
		if !strings.Contains(out, "first_time_sender") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recipient of submitted mail is still a first-time sender after 15 s:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// And a stranger still has it: the friend's record did not make every sender known.
	if out := explain("stranger@remote.example"); !strings.Contains(out, "first_time_sender") {
		t.Errorf("a stranger is no first-time sender once the friend is known:\n%s", out)
	}
}

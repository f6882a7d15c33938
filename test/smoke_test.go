package test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSwaksDelivers: a message sent by swaks over STARTTLS reaches the INBOX with our Received
// header, and SIGTERM stops the server with status 0.
func TestSwaksDelivers(t *testing.T) {
	swaks := requireTool(t, "swaks")
	s := NewServer(t, "")
	s.MustCLI("", "domain", "add", "test.example")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@test.example", "--password-stdin")
	s.Start()
	out, err := exec.Command(swaks, "--server", s.SMTP, "--tls", "--from", "sender@remote.example",
		"--to", "alice@test.example", "--header", "Subject: swaks e2e", "--body", "hello from swaks").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	got := s.Inbox("alice@test.example")
	if len(got) != 1 || !strings.Contains(got[0], "Subject: swaks e2e") || !strings.Contains(got[0], "with ESMTPS id") {
		t.Fatalf("inbox: %q", got)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
}

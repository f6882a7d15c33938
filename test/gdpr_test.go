package test

import (
	"net/smtp"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/gdprtest"
)

// gdprMarker is in alice's mail only.
const gdprMarker = "QWZXKVJ-gdpr-marker"

// TestGDPREraseWhileServing: alice (an account) receives a message by SMTP and submits one
// for a remote address (queued: the smarthost refuses connections), logs in over IMAP and is
// a subscriber; `posthorn gdpr export` while the server runs has her mail and queue entry,
// `posthorn gdpr erase` while it runs leaves no file of the data directory, the server's open
// database and its WAL included, holding her address or the marker, and the mail log keeps
// its events under the pseudonym. Once the server has stopped (its last checkpoint), the files
// hold nothing of her either.
func TestGDPREraseWhileServing(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "[log]\nlevel = \"warn\"\n[delivery]\nsmarthost = \""+freePort(t)+"\"\n")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI(backupPassword+"\n", "user", "add", backupUser, "--password-stdin")
	s.MustCLI("", "list", "create", "news")
	s.MustCLI("", "subscriber", "add", backupUser, "--list", "news", "--name", "Alice", "--attr", "code="+gdprMarker)
	s.Start()

	inbound := "From: bob@sender.example\r\nTo: alice@example.org\r\nSubject: hello\r\nMessage-ID: <g1@sender.example>\r\n\r\n" +
		"The marker " + gdprMarker + " is here.\r\n"
	if err := smtpTransactionAt(s.SMTP, "bob@sender.example", backupUser, inbound); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(s.Submission)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", backupUser, backupPassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	outbound := "From: alice@example.org\r\nTo: ann@remote.example\r\nSubject: out\r\nMessage-ID: <g2@example.org>\r\n\r\n" +
		"Sending " + gdprMarker + " away.\r\n"
	if err := smtpTransaction(c, backupUser, "ann@remote.example", outbound); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	imapc := loginBackupIMAP(t, s.IMAP)
	if err := imapc.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
	// The first delivery attempt has failed (so the queue will not try again for a while),
	// and the mail log has every event naming alice.
	waitUntil(t, 30*time.Second, "the deferred attempt in the mail log", func() bool {
		out, _, _ := s.CLI("", "trace", "search", "--from", backupUser)
		return strings.Contains(out, "deferred")
	})
	waitUntil(t, 30*time.Second, "the inbound message in the mail log", func() bool {
		out, _, _ := s.CLI("", "trace", "search", "--to", backupUser)
		return strings.Contains(out, "received")
	})

	file := filepath.Join(t.TempDir(), "alice.zip")
	s.MustCLI("", "gdpr", "export", backupUser, file)
	zipped := gdprtest.ReadZipFile(t, file)
	for name, want := range map[string]string{
		"mailboxes/01-INBOX.mbox": gdprMarker,
		"queue.json":              "ann@remote.example",
		"subscriber.json":         gdprMarker,
		"logins.json":             "127.0.0.1",
		"mail_log.json":           "g2@example.org",
	} {
		if !strings.Contains(zipped[name], want) {
			t.Errorf("%s of the export lacks %q:\n%s", name, want, zipped[name])
		}
	}

	dry := s.MustCLI("", "gdpr", "erase", backupUser, "--dry-run")
	if !strings.Contains(dry, "would erase") || !strings.Contains(dry, "queue") {
		t.Errorf("dry run:\n%s", dry)
	}
	out := s.MustCLI("", "gdpr", "erase", backupUser)
	_, pseudonym, ok := strings.Cut(out, "pseudonym in the mail log and audit log: ")
	if !ok {
		t.Fatalf("erase:\n%s", out)
	}
	pseudonym, _, _ = strings.Cut(pseudonym, " ")
	data := filepath.Join(s.Dir, "data")
	if held := gdprtest.FilesHolding(t, data, backupUser, gdprMarker); len(held) > 0 {
		t.Errorf("after erasure, with the server running:\n%s", strings.Join(held, "\n"))
	}
	trace := s.MustCLI("", "trace", "search", "--from", pseudonym)
	if !strings.Contains(trace, "received") || !strings.Contains(trace, "deferred") || !strings.Contains(trace, "ann@remote.example") {
		t.Errorf("the mail log under the pseudonym %s:\n%s", pseudonym, trace)
	}
	if _, errOut, code := s.CLI("", "gdpr", "export", backupUser, file+"2"); code == 0 || !strings.Contains(errOut, "nothing is held") {
		t.Errorf("export after erasure: exit %d: %s", code, errOut)
	}
	if users := s.MustCLI("", "user", "list"); strings.Contains(users, backupUser) {
		t.Errorf("user list after erasure:\n%s", users)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if held := gdprtest.FilesHolding(t, data, backupUser, gdprMarker); len(held) > 0 {
		t.Errorf("after the server stopped:\n%s", strings.Join(held, "\n"))
	}
}

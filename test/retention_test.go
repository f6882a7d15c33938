package test

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestRetentionWhileServing: with the server running, `posthorn retention run --dry-run` shows
// what the rules would remove and removes nothing; `retention run` removes the Junk message
// older than junk_days (appended over IMAP with an old internal date), keeps the newer one and
// everything of an account under legal hold; an IMAP client selecting Junk afterwards sees it.
func TestRetentionWhileServing(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "[log]\nlevel = \"warn\"\n[retention]\njunk_days = 30\n")
	s.MustCLI("", "domain", "add", "example.org")
	for _, u := range []string{"alice@example.org", "carol@example.org"} {
		s.MustCLI(backupPassword+"\n", "user", "add", u, "--password-stdin")
	}
	s.Start()
	for _, u := range []string{"alice@example.org", "carol@example.org"} {
		c, err := imapclient.DialInsecure(s.IMAP, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(u, backupPassword).Wait(); err != nil {
			t.Fatal(err)
		}
		for _, days := range []int{40, 2} {
			msg := "Subject: " + u + " junk\r\n\r\nspam\r\n"
			cmd := c.Append("Junk", int64(len(msg)), &imap.AppendOptions{Time: time.Now().AddDate(0, 0, -days)})
			if _, err := cmd.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	s.MustCLI("", "user", "hold", "carol@example.org", "on")

	junk := func(user string) uint32 {
		t.Helper()
		c, err := imapclient.DialInsecure(s.IMAP, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(user, backupPassword).Wait(); err != nil {
			t.Fatal(err)
		}
		sel, err := c.Select("Junk", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		return sel.NumMessages
	}
	out := s.MustCLI("", "retention", "run", "--dry-run")
	if !strings.Contains(out, "alice@example.org Junk: would remove 1 messages older than 30 days") ||
		!strings.Contains(out, "skipped 1 accounts under legal hold") {
		t.Errorf("dry run:\n%s", out)
	}
	if n := junk("alice@example.org"); n != 2 {
		t.Errorf("alice's Junk after the dry run: %d messages, want 2", n)
	}
	out = s.MustCLI("", "retention", "run")
	if !strings.Contains(out, "removed 1 messages") {
		t.Errorf("run:\n%s", out)
	}
	if n := junk("alice@example.org"); n != 1 {
		t.Errorf("alice's Junk after the run: %d messages, want 1", n)
	}
	if n := junk("carol@example.org"); n != 2 {
		t.Errorf("carol's Junk (held): %d messages, want 2", n)
	}
	if out := s.MustCLI("", "check"); strings.TrimSpace(out) != "ok" {
		t.Errorf("check after the run:\n%s", out)
	}
	if out := s.MustCLI("", "audit", "list", "--action", "retention."); !strings.Contains(out, "retention.run") {
		t.Errorf("audit:\n%s", out)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
}

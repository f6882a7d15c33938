package test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil"
)

// corpusMbox writes the first n messages of a labelled corpus directory as an mbox (mboxrd:
// "From " lines in bodies quoted) and returns its path.
func corpusMbox(t *testing.T, dir string, n int) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(names) < n {
		t.Fatalf("corpus %s: %d files, %v", dir, len(names), err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names[:n] {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("From corpus@example Mon Jan  1 00:00:00 2024\n")
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				b.WriteString(">")
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), filepath.Base(dir)+".mbox")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSpamCommands trains the classifier from mbox corpora with the CLI, explains a message,
// and manages allow and block lists, with the errors an admin sees.
func TestSpamCommands(t *testing.T) {
	corpus := testutil.SharedTestdata(t, "spam")
	s := NewServer(t, "")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	spamBox, hamBox := corpusMbox(t, filepath.Join(corpus, "spam"), 150), corpusMbox(t, filepath.Join(corpus, "ham"), 150)

	out := s.MustCLI("", "spam", "train", "--spam", spamBox, "--ham", hamBox)
	if !strings.Contains(out, "trained 150 spam and 150 ham messages") || !strings.Contains(out, "global model: 150 spam, 150 ham") {
		t.Fatalf("train:\n%s", out)
	}
	out = s.MustCLI("", "spam", "explain", filepath.Join(corpus, "sample-spam.txt"))
	for _, want := range []string{"score ", ": Junk (junk at 5.0, reject off)", "global model 150 spam, 150 ham", "gtube", "tokens: "} {
		if !strings.Contains(out, want) {
			t.Errorf("explain: no %q in\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"spam", "train"}, "want --spam DIR|MBOX, --ham DIR|MBOX or both"},
		{[]string{"spam", "train", "--spam", "/nonexistent/spam"}, "--spam /nonexistent/spam: no such file or directory"},
		{[]string{"spam", "train", "--ham", t.TempDir()}, "no messages in it"},
		{[]string{"spam", "train", "--ham", filepath.Join(corpus, "sample-spam.txt")}, "not a directory or an mbox file"},
		{[]string{"spam", "train", "--spam", spamBox, "--account", "bob@example.org"}, "unknown user bob@example.org"},
		{[]string{"spam", "explain", "/nonexistent/msg"}, "no such file or directory"},
		{[]string{"spam", "allow", "add", "alice@example.org", "not an address"}, "invalid"},
	} {
		_, errOut, code := s.CLI("", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", tc.args, code, errOut, tc.want)
		}
	}

	s.MustCLI("", "spam", "allow", "add", "alice@example.org", "Friend@Example.NET")
	s.MustCLI("", "spam", "block", "add", "alice@example.org", "@spam.example")
	if _, errOut, _ := s.CLI("", "spam", "allow", "add", "alice@example.org", "@spam.example"); !strings.Contains(errOut, "@spam.example is already on the block list") {
		t.Errorf("entry on both lists: %q", errOut)
	}
	if out := s.MustCLI("", "spam", "allow", "list", "alice@example.org"); out != "friend@example.net\n" {
		t.Errorf("allow list: %q", out)
	}
	if out := s.MustCLI("", "spam", "block", "list", "alice@example.org"); out != "@spam.example\n" {
		t.Errorf("block list: %q", out)
	}
	s.MustCLI("", "spam", "allow", "remove", "alice@example.org", "friend@example.net")
	if _, errOut, _ := s.CLI("", "spam", "allow", "remove", "alice@example.org", "friend@example.net"); !strings.Contains(errOut, "not on the allow list") {
		t.Errorf("removing twice: %q", errOut)
	}
}

// moveToJunkScript moves the INBOX message whose Subject is argv[3] to Junk with Python's
// imaplib (UID MOVE, RFC 6851).
const moveToJunkScript = `
import imaplib, sys
host, port = sys.argv[1].rsplit(":", 1)
m = imaplib.IMAP4(host, int(port))
m.login("alice@example.org", sys.argv[2])
m.select("INBOX")
typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % sys.argv[3])
uids = data[0].split()
assert len(uids) == 1, data
typ, data = m.uid("MOVE", uids[0], "Junk")
assert typ == "OK", data
print("moved", uids[0].decode())
m.logout()
`

// TestSpamLearnsFromJunkMoves: a message a user moves to Junk in an IMAP client trains the
// account's model (and the global one) once; a blocked sender's mail goes to Junk.
func TestSpamLearnsFromJunkMoves(t *testing.T) {
	s := NewServer(t, "[filter.spam]\ntrain_interval_seconds = 1\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	for i, subject := range []string{"weekly offers", "lunch"} {
		if out, code := swaks(t, s, "--from", fmt.Sprintf("sender%d@remote.example", i), "--to", "alice@example.org",
			"--header", "Subject: "+subject, "--body", "Our weekly offers on garden furniture"); code != 0 {
			t.Fatalf("swaks exit %d\n%s", code, out)
		}
	}
	if out := python(t, moveToJunkScript, s.IMAP, "correct horse battery", "weekly offers"); !strings.HasPrefix(out, "moved") {
		t.Fatalf("imaplib: %s", out)
	}
	deadline := time.Now().Add(15 * time.Second)
	explain := filepath.Join(t.TempDir(), "m.eml")
	if err := os.WriteFile(explain, []byte("Subject: x\r\n\r\nhello\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for {
		out := s.MustCLI("", "spam", "explain", explain, "--account", "alice@example.org")
		if strings.Contains(out, "global model 1 spam, 0 ham; account model 1 spam, 0 ham") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the move was not trained:\n%s\n%s", out, s.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // another round: nothing is trained twice
	if out := s.MustCLI("", "spam", "explain", explain, "--account", "alice@example.org"); !strings.Contains(out, "account model 1 spam, 0 ham") {
		t.Errorf("after another round:\n%s", out)
	}

	s.MustCLI("", "spam", "block", "add", "alice@example.org", "@blocked.example")
	if out, code := swaks(t, s, "--from", "x@blocked.example", "--to", "alice@example.org", "--header", "From: x@blocked.example",
		"--header", "Subject: blocked"); code != 0 {
		t.Fatalf("swaks exit %d\n%s", code, out)
	}
	s.WaitLog("the spam-block_list reason", func(log string) bool { return strings.Contains(log, "spam-block_list") })
}

package test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPOP3WithCurl: messages delivered by SMTP are listed and retrieved by curl over pop3
// (plaintext login on loopback, as the default configuration allows) and pop3s; curl undoes
// the byte-stuffing of a line that is a lone ".".
func TestPOP3WithCurl(t *testing.T) {
	t.Parallel()
	curl := requireTool(t, "curl")
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	bodies := []string{
		"From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: over POP3\r\n\r\nRead me with curl.\r\n",
		"From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n.\r\n..two dots\r\nend\r\n",
	}
	for _, b := range bodies {
		sendPlain(t, s.SMTP, "sender@remote.example", "alice@example.org", b)
	}
	stored := s.Inbox("alice@example.org")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "10", "--user", "alice@example.org:correct horse battery"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	wantList := fmt.Sprintf("1 %d\r\n2 %d\r\n", len(stored[0]), len(stored[1]))
	if list := run("pop3://" + s.POP3 + "/"); list != wantList {
		t.Errorf("curl list over pop3: %q, want %q", list, wantList)
	}
	if list := run("-k", "pop3s://"+s.POP3S+"/"); list != wantList {
		t.Errorf("curl list over pop3s: %q, want %q", list, wantList)
	}
	for i, want := range stored {
		if !strings.HasSuffix(want, bodies[i]) {
			t.Fatalf("stored message %d does not end with what was sent:\n%q", i+1, want)
		}
		if got := run("-k", fmt.Sprintf("pop3s://%s/%d", s.POP3S, i+1)); got != want {
			t.Errorf("curl retrieve %d over pop3s:\n%q\nwant\n%q", i+1, got, want)
		}
	}
	if got := run(fmt.Sprintf("pop3://%s/2", s.POP3)); got != stored[1] {
		t.Errorf("curl retrieve over pop3:\n%q", got)
	}
}

// fetchmailMessage is message n of the fetchmail test: a few hundred octets to about 40 KiB,
// with lines that start with "." and a line that is only ".".
func fetchmailMessage(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender <s%d@remote.example>\r\nTo: alice@example.org\r\nSubject: fetch %d\r\n"+
		"Message-ID: <fetch-%d@remote.example>\r\n\r\n", n, n, n)
	for i := 0; i < 3+n*29%500; i++ {
		switch i % 9 {
		case 2:
			b.WriteString(".\r\n")
		case 5:
			fmt.Fprintf(&b, ".leading dot %d\r\n", i)
		default:
			fmt.Fprintf(&b, "Line %d of message %d: %s\r\n", i, n, strings.Repeat("x", i%60))
		}
	}
	return b.String()
}

// sendMany delivers bodies over conns SMTP connections at once.
func sendMany(t *testing.T, addr, from, to string, bodies []string, conns int) {
	t.Helper()
	errs := make(chan error, conns)
	for i := range conns {
		go func() {
			var part []string
			for k := i; k < len(bodies); k += conns {
				part = append(part, bodies[k])
			}
			errs <- sendBatch(addr, from, to, part)
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// sendBatch delivers bodies over one SMTP connection.
func sendBatch(addr, from, to string, bodies []string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, body := range bodies {
		if err := smtpTransaction(c, from, to, body); err != nil {
			return err
		}
	}
	return c.Quit()
}

var messageIDLine = regexp.MustCompile(`(?mi)^Message-ID: (<[^>]+>)`)

// byMessageID indexes messages by their Message-ID.
func byMessageID(t *testing.T, messages []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, msg := range messages {
		id := messageIDLine.FindStringSubmatch(msg)
		if id == nil {
			t.Fatalf("no Message-ID in %.200q", msg)
		}
		m[id[1]] = msg
	}
	return m
}

// TestPOP3WithFetchmail: fetchmail downloads a 1,000-message maildrop over STLS (checking the
// server's certificate) into an MDA, first with --keep, then, after a run that finds nothing new
// by UIDL, without it; each time every message arrives byte-identical to what the store holds
// (fetchmail hands its MDA LF line ends), and after the last run the INBOX is empty.
func TestPOP3WithFetchmail(t *testing.T) {
	if testing.Short() {
		t.Skip("delivers 1,000 messages")
	}
	t.Parallel()
	fetchmail := requireTool(t, "fetchmail")
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	const count = 1000
	bodies := make([]string, count)
	for i := range bodies {
		bodies[i] = fetchmailMessage(i + 1)
	}
	sendMany(t, s.SMTP, "sender@remote.example", "alice@example.org", bodies, 10)
	stored := byMessageID(t, s.Inbox("alice@example.org"))
	if len(stored) != count {
		t.Fatalf("%d messages stored, want %d", len(stored), count)
	}

	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	writeCertificate(t, filepath.Join(s.Dir, "data", "tls", "selfsigned.pem"), cert)
	rc := filepath.Join(dir, "fetchmailrc")
	ids := filepath.Join(dir, "fetchids")
	// fetchmail reads the password from its rc file only; "invisible" leaves out its Received
	// header, "no rewrite" the addresses alone. The MDA runs once per message in a new shell.
	run := func(keep string) (string, []string) {
		t.Helper()
		out := t.TempDir()
		conf := fmt.Sprintf(`set no bouncemail
set invisible
poll 127.0.0.1 service %s protocol pop3 uidl
  user "alice@example.org" there with password "correct horse battery"
  sslproto "tls1.2+" sslcertck sslcertfile %q sslcommonname %q
  mda "cat > %s/msg.$$"
  no rewrite
  %s
`, strings.Split(s.POP3, ":")[1], cert, s.Hostname, out, keep)
		if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, fetchmail, "-f", rc, "--idfile", ids, "--pidfile", filepath.Join(dir, "pid"), "--nosyslog")
		cmd.Env = append(os.Environ(), "HOME="+dir)
		log, err := cmd.CombinedOutput()
		// Exit status 1 means "no new mail".
		if exitErr, ok := err.(*exec.ExitError); err != nil && !(ok && exitErr.ExitCode() == 1) {
			t.Fatalf("fetchmail (%s): %v\n%s", keep, err, log)
		}
		files, err := filepath.Glob(filepath.Join(out, "msg.*"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(b))
		}
		return string(log), got
	}
	compare := func(step string, got []string) {
		t.Helper()
		if len(got) != count {
			t.Fatalf("%s: fetchmail delivered %d messages, want %d", step, len(got), count)
		}
		for id, msg := range byMessageID(t, got) {
			want := strings.ReplaceAll(stored[id], "\r\n", "\n")
			if msg != want {
				t.Fatalf("%s: message %s differs:\n got %.300q\nwant %.300q", step, id, msg, want)
			}
		}
	}

	_, got := run("keep fetchall")
	compare("with keep", got)
	if log, got := run("keep"); len(got) != 0 {
		t.Fatalf("a second run with keep fetched %d messages again: UIDL not stable?\n%s", len(got), log)
	}
	if n := len(s.Inbox("alice@example.org")); n != count {
		t.Fatalf("%d messages left after fetchmail --keep, want %d", n, count)
	}
	log, got := run("nokeep fetchall")
	compare("without keep", got)
	if left := s.Inbox("alice@example.org"); len(left) != 0 {
		t.Fatalf("%d messages left after fetchmail without keep:\n%s", len(left), log)
	}
}

// writeCertificate copies the certificate blocks of a PEM file (the server's self-signed
// certificate and key) to path, for a client to trust.
func writeCertificate(t *testing.T, from, path string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var certs bytes.Buffer
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			if err := pem.Encode(&certs, block); err != nil {
				t.Fatal(err)
			}
		}
	}
	if certs.Len() == 0 {
		t.Fatalf("no certificate in %s", from)
	}
	if err := os.WriteFile(path, certs.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

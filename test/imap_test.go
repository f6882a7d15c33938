package test

import (
	"bufio"
	"net"
	"net/smtp"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIMAPWithCurl: a message delivered by SMTP is listed and fetched by curl over imap
// (plaintext login on loopback, as the default configuration allows) and imaps, and an idle
// IMAP session gets "* BYE" when the server stops.
func TestIMAPWithCurl(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed: run `make test`, which installs the test dependencies")
	}
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")

	body := "From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: over IMAP\r\n\r\nRead me with curl.\r\n"
	sendPlain(t, s.SMTP, "sender@remote.example", "alice@example.org", body)
	user := "alice@example.org:correct horse battery"
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "10", "--user", user}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if list := run("imap://" + s.IMAP + "/"); !strings.Contains(list, `"/" INBOX`) || !strings.Contains(list, `\Junk`) {
		t.Errorf("curl list:\n%s", list)
	}
	fetched := run("imap://" + s.IMAP + "/INBOX;UID=1")
	// The inbound filter puts its Authentication-Results on top of our Received header.
	if !strings.HasPrefix(fetched, "Authentication-Results: ") || !strings.Contains(fetched, "\r\nReceived: ") || !strings.HasSuffix(fetched, body) {
		t.Errorf("curl fetch over imap:\n%q\nwant Authentication-Results and Received headers and then\n%q", fetched, body)
	}
	if tls := run("-k", "imaps://"+s.IMAPS+"/INBOX;UID=1"); tls != fetched {
		t.Errorf("curl fetch over imaps differs:\n%q", tls)
	}

	c, err := net.Dial("tcp", s.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readLine := func() string {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return line
	}
	if line := readLine(); !strings.HasPrefix(line, "* OK ") {
		t.Fatalf("greeting %q", line)
	}
	c.Write([]byte("a LOGIN alice@example.org \"correct horse battery\"\r\n"))
	if line := readLine(); !strings.HasPrefix(line, "a OK ") {
		t.Fatalf("login: %q", line)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, s.Log())
	}
	if line := readLine(); line != "* BYE server shutting down\r\n" {
		t.Fatalf("at shutdown: %q", line)
	}
}

// sendPlain delivers one message over SMTP without STARTTLS (net/smtp's SendMail would use it
// and refuse the self-signed certificate).
func sendPlain(t *testing.T, addr, from, to, body string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

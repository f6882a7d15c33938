package test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"posthorn/internal/app"
	"posthorn/internal/store"
	pydkim "posthorn/internal/testutil/dkimpy"
	"posthorn/internal/testutil/scramtest"
)

// submitSwaks runs swaks against addr (a submission listener) and returns its output and exit
// status.
func submitSwaks(t *testing.T, addr string, args ...string) (string, int) {
	t.Helper()
	return swaksAt(t, addr, "laptop.example", args...)
}

// swaksAt runs swaks against the SMTP server at addr, greeting as helo.
func swaksAt(t *testing.T, addr, helo string, args ...string) (string, int) {
	t.Helper()
	path := requireTool(t, "swaks")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"--server", addr, "--helo", helo, "--hide-informational"}, args...)
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(out), exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	return string(out), 0
}

var appPasswordLine = regexp.MustCompile(`\(shown only now\): (\S+)`)

// dkimRecords reads the DKIM TXT records printed by "posthorn domain dns".
func dkimRecords(t *testing.T, dns string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`(?s)(\S+\._domainkey\.\S+)\.\s+3600 IN TXT\s+\((.*?)\)`)
	quoted := regexp.MustCompile(`"([^"]*)"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(dns, -1) {
		var value strings.Builder
		for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
			value.WriteString(q[1])
		}
		out[m[1]] = value.String()
	}
	if len(out) != 2 {
		t.Fatalf("want 2 DKIM records in domain dns output, got %d:\n%s", len(out), dns)
	}
	return out
}

// TestSubmission drives both submission listeners of the real binary with swaks and Python's
// smtplib: AUTH PLAIN and LOGIN (password and app password), STARTTLS required before AUTH,
// sender and From ownership, the sending limit, no relay without AUTH on any listener, and a
// delivered message whose two DKIM signatures dkimpy verifies against the records that
// "posthorn domain dns" prints.
func TestSubmission(t *testing.T) {
	requireTool(t, "python3")
	s := NewServer(t, "[submission]\nallow_plaintext_loopback = false\n")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("alice password\n", "user", "add", "alice@example.org", "--password-stdin")
	s.MustCLI("bob password\n", "user", "add", "bob@example.org", "--password-stdin")
	s.MustCLI("", "alias", "add", "team@example.org", "alice@example.org")
	s.MustCLI("", "user", "send-as", "add", "alice@example.org", "@other.example")
	m := appPasswordLine.FindStringSubmatch(s.MustCLI("", "user", "app-password", "add", "alice@example.org", "phone"))
	if m == nil {
		t.Fatal("app-password add printed no password")
	}
	appPassword := m[1]
	if list := s.MustCLI("", "user", "app-password", "list", "alice@example.org"); !strings.HasPrefix(list, "phone\t") {
		t.Fatalf("app-password list: %q", list)
	}
	s.MustCLI("", "user", "send-limit", "bob@example.org", "2", "default")
	dns := s.MustCLI("", "domain", "dns", "example.org")
	records := dkimRecords(t, dns)
	for _, want := range []string{
		"example.org.                             3600 IN MX    10 mx.test.example.",
		`example.org.                             3600 IN TXT   "v=spf1 mx -all"`,
		`_dmarc.example.org.                      3600 IN TXT   "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"`,
		`_mta-sts.example.org.                    3600 IN TXT   "v=STSv1; id=`,
		"https://mta-sts.example.org/.well-known/mta-sts.txt",
		`_smtp._tls.example.org.                  3600 IN TXT   "v=TLSRPTv1; rua=mailto:postmaster@example.org"`,
		"_submission._tcp.example.org.            3600 IN SRV   0 1 " + portOf(t, s.Submission) + " mx.test.example.",
		"_submissions._tcp.example.org.           3600 IN SRV   0 1 " + portOf(t, s.Submissions) + " mx.test.example.",
		"_imaps._tcp.example.org.                 3600 IN SRV   0 1 " + portOf(t, s.IMAPS) + " mx.test.example.",
		"_pop3s._tcp.example.org.                 3600 IN SRV   0 1 " + portOf(t, s.POP3S) + " mx.test.example.",
		"autoconfig.example.org.                  3600 IN CNAME mx.test.example.",
	} {
		if !strings.Contains(dns, want) {
			t.Errorf("domain dns lacks %q:\n%s", want, dns)
		}
	}
	s.Start()

	// STARTTLS + AUTH PLAIN with the password; implicit TLS + AUTH LOGIN with the app password
	// and an alias as sender.
	if out, code := submitSwaks(t, s.Submission, "-tls", "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", "alice password", "--from", "alice@example.org", "--to", "bob@example.org",
		"--header", "Subject: plain over starttls"); code != 0 {
		t.Fatalf("swaks PLAIN: exit %d\n%s", code, out)
	}
	if out, code := submitSwaks(t, s.Submissions, "--tlsc", "--auth", "LOGIN", "--auth-user", "alice@example.org",
		"--auth-password", appPassword, "--from", "team@example.org", "--to", "bob@example.org",
		"--header", "From: Team <team@example.org>", "--header", "Subject: login over tls"); code != 0 {
		t.Fatalf("swaks LOGIN with app password: exit %d\n%s", code, out)
	}
	// SCRAM-SHA-256 over implicit TLS, with a client written from RFC 5802 that also checks the
	// server's signature; then a message with an app password's SCRAM keys.
	for _, pass := range []string{"alice password", appPassword} {
		c, err := gosmtp.DialTLS(s.Submissions, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		sc := &scramtest.Client{Username: "alice@example.org", Password: pass}
		if err := c.Auth(sc); err != nil || !sc.Verified {
			t.Fatalf("SCRAM-SHA-256: %v (server signature verified: %v)", err, sc.Verified)
		}
		if err := c.SendMail("alice@example.org", []string{"alice@example.org"},
			strings.NewReader("From: alice@example.org\r\nSubject: scram\r\n\r\nhi\r\n")); err != nil {
			t.Fatalf("send after SCRAM: %v", err)
		}
		c.Close()
	}
	if got := len(s.Inbox("alice@example.org")); got != 2 {
		t.Fatalf("alice's INBOX has %d messages after two SCRAM submissions, want 2", got)
	}
	// Without TLS, AUTH is not offered (plaintext on loopback is off here).
	if out, code := submitSwaks(t, s.Submission, "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", "alice password", "--from", "alice@example.org", "--to", "bob@example.org"); code == 0 ||
		!strings.Contains(out, "authentication") {
		t.Fatalf("swaks AUTH without TLS: exit %d\n%s", code, out)
	}
	// A wrong password and a foreign From: 535 and 550 5.7.1.
	if out, code := submitSwaks(t, s.Submission, "-tls", "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", "wrong", "--from", "alice@example.org", "--to", "bob@example.org"); code == 0 ||
		!strings.Contains(out, "535 5.7.8") {
		t.Fatalf("swaks wrong password: exit %d\n%s", code, out)
	}
	if out, code := submitSwaks(t, s.Submissions, "--tlsc", "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", "alice password", "--from", "alice@example.org", "--to", "bob@example.org",
		"--header", "From: bob@example.org"); code == 0 || !strings.Contains(out, "550 5.7.1") {
		t.Fatalf("swaks foreign From: exit %d\n%s", code, out)
	}

	// Python's smtplib: starttls(), login(), and the refusals of MAIL before AUTH, of the null
	// sender, of a foreign sender; a send-as domain works; the sending limit holds.
	const script = `
import json, smtplib, ssl, sys
host, port = sys.argv[1].rsplit(':', 1)
ctx = ssl._create_unverified_context()
out = {}
def code(f):
    try:
        f()
        return 250
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0][0]
s = smtplib.SMTP(host, int(port))
s.ehlo()
out['auth_before_tls'] = 'auth' in s.esmtp_features
out['mail_before_auth'] = s.docmd('MAIL FROM:<alice@example.org>')[0]
s.starttls(context=ctx)
s.ehlo()
out['auth_after_tls'] = s.esmtp_features.get('auth', '').strip()
s.login('alice@example.org', 'alice password')
out['null_sender'] = s.docmd('MAIL FROM:<>')[0]
s.rset()
out['foreign_sender'] = s.docmd('MAIL FROM:<bob@example.org>')[0]
s.rset()
msg = 'From: Alice <alice@other.example>\r\nTo: bob@example.org\r\nSubject: send-as\r\n\r\nhi\r\n'
out['send_as'] = code(lambda: s.sendmail('alice@other.example', ['bob@example.org'], msg))
s.quit()
b = smtplib.SMTP(host, int(port))
b.starttls(context=ctx)
b.login('bob@example.org', 'bob password')
b.docmd('MAIL FROM:<bob@example.org>')
out['limit'] = [b.docmd('RCPT TO:<%s@example.org>' % r) for r in ('alice', 'team', 'postmaster')]
out['limit'] = [[c, m.decode()] for c, m in out['limit']]
b.quit()
print(json.dumps(out))
`
	var got struct {
		AuthBeforeTLS  bool     `json:"auth_before_tls"`
		MailBeforeAuth int      `json:"mail_before_auth"`
		AuthAfterTLS   string   `json:"auth_after_tls"`
		NullSender     int      `json:"null_sender"`
		ForeignSender  int      `json:"foreign_sender"`
		SendAs         int      `json:"send_as"`
		Limit          [][2]any `json:"limit"`
	}
	if err := json.Unmarshal([]byte(python(t, script, s.Submission)), &got); err != nil {
		t.Fatal(err)
	}
	if got.AuthBeforeTLS || got.MailBeforeAuth != 530 || got.AuthAfterTLS != "SCRAM-SHA-256 PLAIN LOGIN" ||
		got.NullSender != 550 || got.ForeignSender != 550 || got.SendAs != 250 {
		t.Errorf("smtplib: %+v", got)
	}
	if len(got.Limit) != 3 || got.Limit[0][0] != 250.0 || got.Limit[1][0] != 250.0 || got.Limit[2][0] != 451.0 ||
		!strings.HasPrefix(got.Limit[2][1].(string), "4.7.1") {
		t.Errorf("sending limit of 2 recipients per hour: %v", got.Limit)
	}

	// Without AUTH, neither submission listener takes mail, local or remote.
	for _, addr := range []string{s.Submission, s.Submissions} {
		tlsFlag := "-tls"
		if addr == s.Submissions {
			tlsFlag = "--tlsc"
		}
		if out, code := submitSwaks(t, addr, tlsFlag, "--from", "alice@example.org", "--to", "someone@elsewhere.example"); code == 0 ||
			!strings.Contains(out, "530 5.7.0") {
			t.Fatalf("MAIL without AUTH on %s: exit %d\n%s", addr, code, out)
		}
	}
	// The app password works for IMAP and POP3 too (Python's imaplib and poplib).
	const readers = `
import imaplib, poplib, sys
imap_addr, pop_addr, password = sys.argv[1], sys.argv[2], sys.argv[3]
h, p = imap_addr.rsplit(':', 1)
m = imaplib.IMAP4(h, int(p))
print(m.login('alice@example.org', password)[0])
m.logout()
h, p = pop_addr.rsplit(':', 1)
c = poplib.POP3(h, int(p))
c.user('alice@example.org')
print(c.pass_(password).split()[0].decode())
c.quit()
`
	if got := python(t, readers, s.IMAP, s.POP3, appPassword); got != "OK\n+OK\n" {
		t.Errorf("app password over IMAP and POP3: %q", got)
	}
	// And SCRAM-SHA-256 in IMAP and POP3 with the app password's keys.
	for _, p := range []struct{ addr, command, ok string }{
		{s.IMAP, "a1 AUTHENTICATE SCRAM-SHA-256", "a1 OK "},
		{s.POP3, "AUTH SCRAM-SHA-256", "+OK "},
	} {
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		readLine := func() string {
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, _ := r.ReadString('\n')
			return strings.TrimRight(line, "\r\n")
		}
		send := func(line string) { _, _ = conn.Write([]byte(line + "\r\n")) }
		readLine() // greeting
		cl := &scramtest.Client{Username: "alice@example.org", Password: appPassword}
		if got, err := scramtest.Converse(cl, p.command, true, send, readLine); err != nil || !strings.HasPrefix(got, p.ok) || !cl.Verified {
			t.Errorf("%s with the app password: %q %v (server verified: %v)", p.command, got, err, cl.Verified)
		}
		conn.Close()
	}

	// The MX never relays; an unauthenticated MX client cannot send as a local user to the world.
	if out, code := swaks(t, s, "--from", "alice@example.org", "--to", "someone@elsewhere.example"); code == 0 ||
		!strings.Contains(out, "554 5.7.1") {
		t.Fatalf("relay through the MX: exit %d\n%s", code, out)
	}

	inbox := s.Inbox("bob@example.org")
	if len(inbox) != 3 {
		t.Fatalf("bob's INBOX has %d messages, want 3", len(inbox))
	}
	for _, msg := range inbox {
		if !strings.Contains(msg, "with ESMTPSA id") || strings.Contains(msg, "127.0.0.1") {
			t.Errorf("Received of a submitted message must say ESMTPSA and hide the client address:\n%s", msg[:min(400, len(msg))])
		}
	}
	verdict := dkimpy(t, inbox[0], records)
	if verdict != "True True" {
		t.Fatalf("dkimpy on the message from alice@example.org: %q\n%s", verdict, inbox[0])
	}
	// Mail from a send-as domain that is not local is not signed.
	if strings.Contains(inbox[2], "DKIM-Signature") {
		t.Errorf("message from other.example carries a DKIM signature:\n%s", inbox[2])
	}

	// The shared authenticator counted the wrong password, and the submission listeners have
	// their own metrics.
	metrics := httpGet(t, "http://"+s.HTTP+"/metrics")
	for _, want := range []string{
		`posthorn_auth_attempts_total{protocol="submission",result="failed"} 1`,
		`posthorn_submission_messages_received_total 5`,
		`posthorn_submission_messages_rejected_total{reason="sender-not-owned"} 1`,
		`posthorn_submission_messages_rejected_total{reason="from-not-owned"} 1`,
		`posthorn_submission_messages_rejected_total{reason="send-limit"} 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(metrics, "posthorn_submission_messages|posthorn_auth"))
		}
	}

	// The admin commands while the server runs.
	runTranscript(t, s, `
$ user send-as list alice@example.org
@other.example
$ user send-as remove alice@example.org @other.example
alice@example.org may no longer send as @other.example
$ user send-as remove alice@example.org @other.example
posthorn: alice@example.org has no send-as @other.example
[exit 1]
$ user send-limit bob@example.org
bob@example.org: 2 recipients per hour, 5000 (default) per day
$ user send-limit bob@example.org default 0
bob@example.org: 1000 (default) recipients per hour, no limit per day
$ user app-password remove alice@example.org phone
removed app password "phone" of alice@example.org
$ user app-password list alice@example.org
$ user app-password remove alice@example.org phone
posthorn: alice@example.org has no app password called "phone"
[exit 1]
$ user send-as add nobody@example.org @other.example
posthorn: unknown user nobody@example.org
[exit 1]
`)
	if out, code := submitSwaks(t, s.Submissions, "--tlsc", "--auth", "PLAIN", "--auth-user", "alice@example.org",
		"--auth-password", appPassword, "--from", "alice@example.org", "--to", "bob@example.org"); code == 0 ||
		!strings.Contains(out, "535 5.7.8") {
		t.Fatalf("removed app password still works: exit %d\n%s", code, out)
	}
}

// dkimpy verifies each DKIM-Signature of msg with Debian's dkimpy, the public keys served
// from records, and returns "True"/"False" per signature.
func dkimpy(t *testing.T, msg string, records map[string]string) string {
	t.Helper()
	return pydkim.Verify(t, []byte(msg), records)
}

// TestDKIMKeysAtAddAndStart: "domain add" makes a domain's two DKIM keys at once, and a domain
// made without them (before signing existed) gets them when the server starts.
func TestDKIMKeysAtAddAndStart(t *testing.T) {
	s := NewServer(t, "")
	s.MustCLI("", "domain", "add", "example.org")
	d := s.openData()
	ctx := context.Background()
	if _, err := d.Store.AddDomain(ctx, "old.example"); err != nil {
		t.Fatal(err)
	}
	keysOf := func(d *app.Data, domain string) []string {
		keys, err := d.Store.(store.SubmissionStore).DKIMKeys(ctx, domain)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			out = append(out, k.Algorithm)
		}
		sort.Strings(out)
		return out
	}
	if got := keysOf(d, "example.org"); strings.Join(got, " ") != "ed25519 rsa" {
		t.Fatalf("keys after domain add: %v", got)
	}
	if got := keysOf(d, "old.example"); len(got) != 0 {
		t.Fatalf("keys of a domain added behind the CLI's back: %v", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	s.Start()
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
	d = s.openData()
	defer d.Close()
	if got := keysOf(d, "old.example"); strings.Join(got, " ") != "ed25519 rsa" {
		t.Fatalf("keys after a start: %v", got)
	}
}

// grepLines returns the lines of text that match the regular expression re.
func grepLines(text, re string) string {
	r := regexp.MustCompile(re)
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if r.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

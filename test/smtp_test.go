package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The SMTP tests drive the running binary with swaks and with Python (smtplib, and raw sockets
// where a transcript must be exact). Each test starts its own server, so they run in parallel.

// newMailServer returns a started server for example.org with accounts alice, bob and carol,
// the alias team@example.org -> alice, bob and the catch-all @catch.example -> carol.
func newMailServer(t *testing.T, extra string) *Server {
	t.Helper()
	s := NewServer(t, extra)
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("", "domain", "add", "catch.example")
	for _, u := range []string{"alice", "bob", "carol"} {
		s.MustCLI("correct horse battery\n", "user", "add", u+"@example.org", "--password-stdin")
	}
	s.MustCLI("", "alias", "add", "team@example.org", "alice@example.org", "bob@example.org")
	s.MustCLI("", "alias", "add", "@catch.example", "carol@example.org")
	s.Start()
	return s
}

// TestSMTPRecipients: every way a recipient resolves, and every way it is refused, with swaks.
func TestSMTPRecipients(t *testing.T) {
	t.Parallel()
	s := newMailServer(t, "")
	for _, c := range []struct {
		to    string
		reply string // the server's reply to RCPT TO, or to the end of DATA when accepted
	}{
		{"alice@example.org", "<-  250 2.0.0 OK: queued"},
		{"Team@Example.ORG", "<-  250 2.0.0 OK: queued"},        // alias, two targets
		{"anyone@catch.example", "<-  250 2.0.0 OK: queued"},    // catch-all
		{"alice+lists@example.org", "<-  250 2.0.0 OK: queued"}, // RFC 5233 sub-address
		{"nobody@example.org", "<** 550 5.1.1 No such user here"},
		{"bob%elsewhere.example@example.org", "<** 550 5.1.1 No such user here"}, // percent hack: not relayed
		{"someone@elsewhere.example", "<** 554 5.7.1 Relay access denied"},
	} {
		out, _ := swaks(t, s, "--from", "sender@remote.example", "--to", c.to, "--header", "Subject: to "+c.to)
		if !strings.Contains(out, "\n"+c.reply+"\n") {
			t.Errorf("RCPT TO:<%s>: want %q in the transcript:\n%s", c.to, c.reply, out)
		}
	}
	// A local sender does not make a foreign recipient acceptable either.
	out, _ := swaks(t, s, "--from", "alice@example.org", "--to", "someone@elsewhere.example")
	if !strings.Contains(out, "\n<** 554 5.7.1 Relay access denied\n") {
		t.Errorf("relay from a local sender: want 554 5.7.1:\n%s", out)
	}

	want := map[string][]string{
		"alice@example.org": {"to alice@example.org", "to Team@Example.ORG", "to alice+lists@example.org"},
		"bob@example.org":   {"to Team@Example.ORG"},
		"carol@example.org": {"to anyone@catch.example"},
	}
	for account, subjects := range want {
		if got := headerValues(s.Inbox(account), "Subject"); !slices.Equal(got, subjects) {
			t.Errorf("%s INBOX subjects %q, want %q", account, got, subjects)
		}
	}

	metrics := httpGet(t, "http://"+s.HTTP+"/metrics")
	for series, value := range map[string]string{
		"posthorn_smtp_messages_received_total":                        "4",
		`posthorn_smtp_messages_rejected_total{reason="unknown-user"}`: "2",
		`posthorn_smtp_messages_rejected_total{reason="relay-denied"}`: "2",
	} {
		if got := metricValue(metrics, series); got != value {
			t.Errorf("%s = %q, want %s", series, got, value)
		}
	}
	if got := httpGet(t, "http://"+s.HTTP+"/healthz"); got != "ok\n" {
		t.Errorf("GET /healthz = %q, want \"ok\\n\"", got)
	}
}

// TestSMTPStartTLSWithSmtplib: Python's smtplib upgrades with STARTTLS, verifying the server's
// self-signed certificate against the copy in the data directory, and the stored message
// records the encrypted hop.
func TestSMTPStartTLSWithSmtplib(t *testing.T) {
	t.Parallel()
	s := newMailServer(t, "")
	out := python(t, pyStartTLS, s.SMTP, filepath.Join(s.Dir, "data", "tls", "selfsigned.pem"))
	want := "starttls advertised: True\n" +
		"220 2.0.0 Ready to start TLS\n" +
		"certificate for: mx.test.example\n" +
		"protocol: TLSv1.3\n" +
		"sendmail refused: {}\n"
	if out != want {
		t.Fatalf("smtplib transcript:\n%s\nwant:\n%s", out, want)
	}
	got := s.Inbox("bob@example.org")
	if len(got) != 1 || !strings.Contains(got[0], "Subject: smtplib over TLS") || !strings.Contains(got[0], "with ESMTPS id") {
		t.Fatalf("bob's INBOX: %q", got)
	}
}

const pyStartTLS = `
import smtplib, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False  # we dial 127.0.0.1; the name is checked below
ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # trust the self-signed leaf itself
with smtplib.SMTP(host, int(port), local_hostname="client.example") as c:
    c.ehlo()
    print("starttls advertised:", c.has_extn("starttls"))
    code, msg = c.starttls(context=ctx)
    print(code, msg.decode())
    cert = c.sock.getpeercert()
    print("certificate for:", ", ".join(v for k, v in cert["subjectAltName"] if k == "DNS"))
    print("protocol:", c.sock.version())
    refused = c.sendmail("sender@remote.example", ["bob@example.org"],
        "From: sender@remote.example\r\nTo: bob@example.org\r\nSubject: smtplib over TLS\r\n\r\nhello\r\n")
    print("sendmail refused:", refused)
`

// TestSMTPPipelining: a client that sends MAIL, RCPT, RCPT and DATA in one write (RFC 2920)
// gets the four replies in order, and the message reaches both recipients.
func TestSMTPPipelining(t *testing.T) {
	t.Parallel()
	s := newMailServer(t, "")
	out := python(t, pyPipelining, s.SMTP)
	want := `S: 220 mx.test.example ESMTP Service Ready
C: EHLO client.example
S: PIPELINING advertised
C: MAIL FROM:<sender@remote.example> | RCPT TO:<alice@example.org> | RCPT TO:<nobody@example.org> | RCPT TO:<carol@example.org> | DATA
S: 250 2.0.0 Roger, accepting mail from <sender@remote.example>
S: 250 2.0.0 I'll make sure <alice@example.org> gets this
S: 550 5.1.1 No such user here
S: 250 2.0.0 I'll make sure <carol@example.org> gets this
S: 354 Go ahead. End your data with <CR><LF>.<CR><LF>
C: <message> .
S: 250 2.0.0 OK: queued
C: RSET | NOOP | QUIT
S: 250 2.0.0 Session reset
S: 250 2.0.0 I have successfully done nothing
S: 221 2.0.0 Bye
`
	if out != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", out, want)
	}
	for _, account := range []string{"alice@example.org", "carol@example.org"} {
		got := s.Inbox(account)
		if len(got) != 1 || !strings.HasSuffix(got[0], "\r\nSubject: pipelined\r\n\r\nline one\r\n.leading dot\r\n") {
			t.Errorf("%s INBOX: %q, want the message with its dot unstuffed", account, got)
		}
	}
}

// pyReplies is the raw-socket SMTP client shared by the Python scripts: reply() reads one
// (possibly multi-line) reply and returns its last line.
const pyReplies = `
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
sock = socket.create_connection((host, int(port)), timeout=20)
rfile = sock.makefile("rb")
def reply():
    lines = []
    while True:
        line = rfile.readline().decode()
        if not line:
            return "EOF"
        lines.append(line.rstrip("\r\n"))
        if line[3:4] != "-":
            return lines[-1] if len(lines) == 1 else "\n".join(lines)
def send(*cmds):
    print("C:", " | ".join(cmds), flush=True)
    sock.sendall("".join(c + "\r\n" for c in cmds).encode())
`

const pyPipelining = pyReplies + `
print("S:", reply())
send("EHLO client.example")
if "250-PIPELINING" in reply():
    print("S: PIPELINING advertised")
send("MAIL FROM:<sender@remote.example>", "RCPT TO:<alice@example.org>",
     "RCPT TO:<nobody@example.org>", "RCPT TO:<carol@example.org>", "DATA")
for _ in range(5):
    print("S:", reply())
print("C: <message> .")
sock.sendall(b"Subject: pipelined\r\n\r\nline one\r\n..leading dot\r\n.\r\n")
print("S:", reply())
send("RSET", "NOOP", "QUIT")
for _ in range(3):
    print("S:", reply())
`

// TestSMTPLimitsAndMailLog: the size limit (at MAIL with SIZE= and at the end of DATA), the
// Received-header loop limit, and the mail log line of every outcome, with its fixed keys.
func TestSMTPLimitsAndMailLog(t *testing.T) {
	t.Parallel()
	s := newMailServer(t, "[smtp]\nmax_message_size_mib = 1\n[log]\nmail_log = \"mail.log\"\n")
	out := python(t, pyLimits, s.SMTP)
	want := `small message: accepted
49 Received headers: accepted
51 Received headers: 554 5.4.6 Too many Received headers: mail loop detected
2 MiB, no SIZE: 552 5.3.4 Message too big for system
2 MiB, SIZE=: 552 5.3.4 Max message size exceeded
unknown user: 550 5.1.1 No such user here
`
	if out != want {
		t.Fatalf("smtplib:\n%s\nwant:\n%s", out, want)
	}
	if got := headerValues(s.Inbox("alice@example.org"), "Subject"); !slices.Equal(got, []string{"small", "49 hops"}) {
		t.Errorf("alice's INBOX subjects %q", got)
	}

	// The SIZE= refusal happens in the protocol library before a transaction exists, so it
	// has no mail log line; every other outcome has one.
	records := mailLog(t, filepath.Join(s.Dir, "mail.log"))
	wantRecords := []string{
		"event=received msgid=small@remote.example from=sender@remote.example rcpt=alice@example.org result=delivered code=250 2.0.0",
		"event=received msgid=hops@remote.example from=sender@remote.example rcpt=alice@example.org result=delivered code=250 2.0.0",
		"event=rejected msgid= from=sender@remote.example rcpt=alice@example.org result=loop code=554 5.4.6",
		"event=rejected msgid= from=sender@remote.example rcpt=alice@example.org result=too-large code=552 5.3.4",
		"event=rejected msgid= from=sender@remote.example rcpt=nobody@example.org result=unknown-user code=550 5.1.1",
	}
	if len(records) != len(wantRecords) {
		t.Fatalf("mail log has %d records, want %d:\n%q", len(records), len(wantRecords), records)
	}
	for i, r := range records {
		for _, key := range []string{"event", "id", "msgid", "from", "rcpt", "result", "code", "remote", "size", "conn"} {
			if _, ok := r[key]; !ok {
				t.Errorf("record %d has no key %s: %v", i, key, r)
			}
		}
		got := fmt.Sprintf("event=%s msgid=%s from=%s rcpt=%s result=%s code=%s", r["event"], r["msgid"], r["from"], r["rcpt"], r["result"], r["code"])
		if got != wantRecords[i] {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, wantRecords[i])
		}
		if r["remote"] != "127.0.0.1" {
			t.Errorf("record %d: remote=%q", i, r["remote"])
		}
		received := r["event"] == "received"
		if received != (r["id"] != "") || received != (r["size"] != "0") {
			t.Errorf("record %d: a received message has an id and a size, a refused one neither: %v", i, r)
		}
	}
	if inbox := s.Inbox("alice@example.org"); len(inbox) > 0 && records[0]["size"] != strconv.Itoa(len(inbox[0])) {
		t.Errorf("mail log size=%s, stored message has %d bytes", records[0]["size"], len(inbox[0]))
	}
	// The server log does not repeat the mail log.
	if strings.Contains(s.Log(), "event=received") {
		t.Errorf("mail log records in the server log:\n%s", s.Log())
	}
}

const pyLimits = `
import smtplib, sys
host, port = sys.argv[1].rsplit(":", 1)
def message(subject, msgid, hops=0, size=0):
    received = "".join("Received: from relay%d.example by relay%d.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n" % (i, i+1) for i in range(hops))
    body = ("x" * 76 + "\r\n") * (size // 78) if size else "hello\r\n"
    return received + "Subject: %s\r\nMessage-ID: <%s>\r\n\r\n%s" % (subject, msgid, body)
def data(label, to, msg):
    # MAIL without SIZE=, so the limit is enforced on the data itself.
    with smtplib.SMTP(host, int(port)) as c:
        c.ehlo()
        c.mail("sender@remote.example")
        code, resp = c.rcpt(to)
        if code != 250:
            print("%s: %d %s" % (label, code, resp.decode()))
            return
        code, resp = c.data(msg)
        print("%s: %s" % (label, "accepted" if code == 250 else "%d %s" % (code, resp.decode())))
data("small message", "alice@example.org", message("small", "small@remote.example"))
data("49 Received headers", "alice@example.org", message("49 hops", "hops@remote.example", hops=49))
data("51 Received headers", "alice@example.org", message("51 hops", "loop@remote.example", hops=51))
data("2 MiB, no SIZE", "alice@example.org", message("big", "big@remote.example", size=2<<20))
with smtplib.SMTP(host, int(port)) as c:
    try:
        c.sendmail("sender@remote.example", ["alice@example.org"], message("big", "big2@remote.example", size=2<<20))
    except smtplib.SMTPSenderRefused as e:
        print("2 MiB, SIZE=: %d %s" % (e.smtp_code, e.smtp_error.decode()))
data("unknown user", "nobody@example.org", message("lost", "lost@remote.example"))
`

// TestSMTPShutdownDuringData: SIGTERM while a client is in the middle of DATA. The server stops
// accepting connections but lets the transaction finish: the client gets 250, the message is
// stored, and the process exits 0.
func TestSMTPShutdownDuringData(t *testing.T) {
	t.Parallel()
	s := newMailServer(t, "")
	py := exec.Command("/usr/bin/python3", "-c", pySlowData, s.SMTP)
	stdin, err := py.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := py.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	py.Stderr = os.Stderr
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	defer py.Process.Kill()
	lines := bufio.NewScanner(stdout)
	var transcript []string
	for lines.Scan() {
		transcript = append(transcript, lines.Text())
		if lines.Text() == "C: <first half of the message>" {
			break
		}
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to stop accepting connections", func() bool {
		c, err := net.DialTimeout("tcp", s.SMTP, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil && strings.Contains(s.Log(), "shutting down")
	})
	// Idle sessions are closed every 50 ms during shutdown; this one is in a transaction and
	// must survive several rounds.
	time.Sleep(300 * time.Millisecond)
	if _, err := io.WriteString(stdin, "go on\n"); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		transcript = append(transcript, lines.Text())
	}
	if err := py.Wait(); err != nil {
		t.Fatalf("python: %v", err)
	}
	want := []string{
		"S: 220 mx.test.example ESMTP Service Ready",
		"C: EHLO client.example",
		"C: MAIL FROM:<sender@remote.example>",
		"S: 250 2.0.0 Roger, accepting mail from <sender@remote.example>",
		"C: RCPT TO:<alice@example.org>",
		"S: 250 2.0.0 I'll make sure <alice@example.org> gets this",
		"C: DATA",
		"S: 354 Go ahead. End your data with <CR><LF>.<CR><LF>",
		"C: <first half of the message>",
		"C: <second half of the message> .",
		"S: 250 2.0.0 OK: queued",
		"S: 421 4.3.2 mx.test.example shutting down",
	}
	if !slices.Equal(transcript, want) {
		t.Fatalf("transcript:\n%s\nwant:\n%s", strings.Join(transcript, "\n"), strings.Join(want, "\n"))
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.Log())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("posthorn still running after SIGTERM:\n%s", s.Log())
	}
	got := s.Inbox("alice@example.org")
	if len(got) != 1 || !strings.HasSuffix(got[0], "\r\nfirst half\r\nsecond half\r\n") {
		t.Fatalf("alice's INBOX: %q", got)
	}
}

const pySlowData = pyReplies + `
print("S:", reply())
send("EHLO client.example")
reply()
for cmd in ["MAIL FROM:<sender@remote.example>", "RCPT TO:<alice@example.org>", "DATA"]:
    send(cmd)
    print("S:", reply())
sock.sendall(b"Subject: slow\r\n\r\nfirst half\r\n")
print("C: <first half of the message>", flush=True)
sys.stdin.readline()
sock.sendall(b"second half\r\n.\r\n")
print("C: <second half of the message> .")
print("S:", reply())
print("S:", reply())
`

// swaks runs swaks against s's SMTP listener and returns its transcript and exit status
// (0 only when the message was accepted).
func swaks(t *testing.T, s *Server, args ...string) (string, int) {
	t.Helper()
	return swaksAt(t, s.SMTP, "client.example", args...)
}

// python runs a Python 3 script with args and returns its standard output; the script must
// exit 0.
func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	requireTool(t, "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s%s", err, out, stderr.String())
	}
	return string(out)
}

// httpGet returns the body of a 200 response.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

// metricValue returns the value of one series ("name" or `name{label="v"}`) in the Prometheus
// text format, "" when absent.
func metricValue(text, series string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// headerValues returns the value of the first header called name in each message.
func headerValues(messages []string, name string) []string {
	var out []string
	for _, m := range messages {
		header, _, _ := strings.Cut(m, "\r\n\r\n")
		for _, line := range strings.Split(header, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+": "); ok {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// mailLog reads a mail log file written in slog's text format: one map of key to value per line.
func mailLog(t *testing.T, path string) []map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var records []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		r, err := parseLogfmt(line)
		if err != nil {
			t.Fatalf("mail log line %q: %v", line, err)
		}
		records = append(records, r)
	}
	return records
}

// parseLogfmt splits key=value pairs; values may be Go-quoted, as slog's text handler writes them.
func parseLogfmt(line string) (map[string]string, error) {
	r := map[string]string{}
	for line != "" {
		key, rest, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("no = after %q", line)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			quoted, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, err
			}
			value, _ = strconv.Unquote(quoted)
			rest = rest[len(quoted):]
		} else {
			value, rest, _ = strings.Cut(rest, " ")
			rest = " " + rest
		}
		r[key] = value
		line = strings.TrimLeft(rest, " ")
	}
	return r, nil
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

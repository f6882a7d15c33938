package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// received is one message as the test server got it.
type received struct {
	from, to string
	hostname string // EHLO name
	tls      bool
	data     []byte
}

// testBackend is an in-process SMTP server's backend that keeps every message it accepts and
// refuses recipients whose address contains refuse (when not empty).
type testBackend struct {
	refuse string

	mu       sync.Mutex
	messages []received
}

func (b *testBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &testSession{backend: b, conn: c}, nil
}

func (b *testBackend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.messages)
}

type testSession struct {
	backend  *testBackend
	conn     *smtp.Conn
	from, to string
}

func (s *testSession) Reset()        { s.from, s.to = "", "" }
func (s *testSession) Logout() error { return nil }

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.backend.refuse != "" && strings.Contains(to, s.backend.refuse) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = to
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := received{from: s.from, to: s.to, hostname: s.conn.Hostname(), tls: isTLS, data: data}
	s.backend.mu.Lock()
	s.backend.messages = append(s.backend.messages, m)
	s.backend.mu.Unlock()
	return nil
}

// startServer serves be on 127.0.0.1 and returns its address. With tlsConfig, it offers STARTTLS.
func startServer(t *testing.T, be *testBackend, tlsConfig *tls.Config) string {
	t.Helper()
	return startServerWith(t, be, func(srv *smtp.Server) { srv.TLSConfig = tlsConfig })
}

// startServerWith starts a server on be after configure has set its fields.
func startServerWith(t *testing.T, be *testBackend, configure func(*smtp.Server)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	configure(srv)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

// testConfig is a small run against addr; tests change what they exercise.
func testConfig(addr string) smtpConfig {
	return smtpConfig{
		Addr:        addr,
		From:        "bench@example.org",
		To:          []string{"u1@test.example"},
		Count:       20,
		Concurrency: 4,
		Size:        2000,
		EHLO:        "bench.test",
	}
}

// runCounting runs cfg and checks the counts of sent, refused and failed messages.
func runCounting(t *testing.T, cfg smtpConfig, sent, refused, errors int64) *summary {
	t.Helper()
	s, err := runSMTP(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != sent || s.Refused != refused || s.Errors != errors {
		t.Fatalf("sent %d, refused %d, errors %d; want %d, %d, %d (errors: %q)",
			s.Sent, s.Refused, s.Errors, sent, refused, errors, s.FirstErrors)
	}
	return s
}

func TestRunSMTPDeliversEveryMessage(t *testing.T) {
	be := &testBackend{}
	cfg := testConfig(startServer(t, be, nil))
	cfg.Count = 25
	cfg.PerConnection = 3
	cfg.To = []string{"a{n}@test.example", "b@test.example"}

	s := runCounting(t, cfg, 25, 0, 0)
	// 25 messages over 4 workers, at most 3 a connection: at least 9 connections.
	if s.Connections < 9 {
		t.Errorf("connections = %d, want at least 9 with --per-connection 3", s.Connections)
	}
	if s.LatencyMS.Max <= 0 || s.MessagesPerSecond <= 0 || s.MBPerSecond <= 0 {
		t.Errorf("latency max %v ms, %v messages/s, %v MB/s: want positive figures", s.LatencyMS.Max, s.MessagesPerSecond, s.MBPerSecond)
	}

	got := be.received()
	if len(got) != 25 {
		t.Fatalf("server received %d messages, want 25", len(got))
	}
	var rcpts, wantRcpts, ids []string
	for n := range 25 {
		if n%2 == 0 {
			wantRcpts = append(wantRcpts, "a"+strconv.Itoa(n)+"@test.example")
		} else {
			wantRcpts = append(wantRcpts, "b@test.example")
		}
	}
	for _, m := range got {
		rcpts = append(rcpts, m.to)
		if m.from != cfg.From || m.hostname != cfg.EHLO {
			t.Errorf("envelope from %q, EHLO %q; want %q, %q", m.from, m.hostname, cfg.From, cfg.EHLO)
		}
		msg := checkMessage(t, m.data, cfg.Size)
		if to := msg.Header.Get("To"); to != m.to {
			t.Errorf("To: %q, envelope recipient %q", to, m.to)
		}
		id := msg.Header.Get("Message-ID")
		if !strings.Contains(id, s.RunID) {
			t.Errorf("Message-ID %q does not hold the run id %q", id, s.RunID)
		}
		ids = append(ids, id)
	}
	slices.Sort(rcpts)
	slices.Sort(wantRcpts)
	if !slices.Equal(rcpts, wantRcpts) {
		t.Errorf("recipients %q, want %q", rcpts, wantRcpts)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 25 {
		t.Errorf("Message-IDs are not unique: %q", ids)
	}
}

// checkMessage parses data as an RFC 5322 message and checks its fields and size.
func checkMessage(t *testing.T, data []byte, size int) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	for _, field := range []string{"From", "To"} {
		if _, err := msg.Header.AddressList(field); err != nil {
			t.Errorf("%s: %v", field, err)
		}
	}
	for field, want := range map[string]string{
		"MIME-Version": "1.0",
		"Content-Type": "text/plain; charset=us-ascii",
	} {
		if got := msg.Header.Get(field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") {
		t.Errorf("Message-ID: %q", id)
	}
	if msg.Header.Get("Subject") == "" {
		t.Error("no Subject")
	}
	if d := len(data) - size; d < -16 || d > 16 {
		t.Errorf("message is %d bytes, want about %d", len(data), size)
	}
	for line := range strings.Lines(string(data)) {
		if !strings.HasSuffix(line, "\r\n") || len(line) > bodyLineLength+2 {
			t.Fatalf("line %q: want at most %d characters and CRLF", line, bodyLineLength)
		}
	}
	return msg
}

func TestRunSMTPCountsRefusals(t *testing.T) {
	be := &testBackend{refuse: "nobody"}
	cfg := testConfig(startServer(t, be, nil))
	cfg.Count = 10
	cfg.Concurrency = 2
	cfg.To = []string{"u1@test.example", "nobody@test.example"}

	s := runCounting(t, cfg, 5, 5, 0)
	if len(s.FirstErrors) != 1 || !strings.Contains(s.FirstErrors[0], "rcpt to <nobody@test.example>: SMTP error 550") {
		t.Errorf("first errors %q, want the one refusal of nobody@", s.FirstErrors)
	}
	// A refusal leaves the connection usable: at most one connection per worker.
	if s.Connections > 2 {
		t.Errorf("connections = %d, want at most 2", s.Connections)
	}
	if got := len(be.received()); got != 5 {
		t.Errorf("server received %d messages, want 5", got)
	}
}

func TestRunSMTPDuration(t *testing.T) {
	be := &testBackend{}
	cfg := testConfig(startServer(t, be, nil))
	cfg.Count = 0
	cfg.Duration = 200 * time.Millisecond
	cfg.Concurrency = 2

	s, err := runSMTP(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent == 0 || s.Refused != 0 || s.Errors != 0 {
		t.Fatalf("sent %d, refused %d, errors %d; want some sent and no failure (errors: %q)", s.Sent, s.Refused, s.Errors, s.FirstErrors)
	}
	if s.ElapsedSeconds < cfg.Duration.Seconds() {
		t.Errorf("elapsed %v s, want at least %v", s.ElapsedSeconds, cfg.Duration.Seconds())
	}
	if got := int64(len(be.received())); got != s.Sent {
		t.Errorf("server received %d messages, report says %d", got, s.Sent)
	}
}

func TestRunSMTPStartTLS(t *testing.T) {
	be := &testBackend{}
	cfg := testConfig(startServer(t, be, selfSignedTLS(t)))
	cfg.Count = 5
	cfg.StartTLS = true
	cfg.Insecure = true

	runCounting(t, cfg, 5, 0, 0)
	for _, m := range be.received() {
		if !m.tls || m.hostname != cfg.EHLO {
			t.Errorf("message over TLS %v after EHLO %q; want TLS and %q", m.tls, m.hostname, cfg.EHLO)
		}
	}

	// Without --insecure the self-signed certificate is refused: every message fails.
	cfg.Insecure = false
	s := runCounting(t, cfg, 0, 0, 5)
	if len(s.FirstErrors) != 1 || !strings.Contains(s.FirstErrors[0], "failed to verify certificate") {
		t.Errorf("errors %q, want certificate failures", s.FirstErrors)
	}
}

// TestRunSMTPLMTP: with --lmtp the run speaks LMTP (RFC 2033) to an LMTP server: LHLO, and
// the reply per recipient after the data; each message arrives.
func TestRunSMTPLMTP(t *testing.T) {
	be := &testBackend{}
	cfg := testConfig(startServerWith(t, be, func(srv *smtp.Server) { srv.LMTP = true }))
	cfg.Count = 6
	cfg.LMTP = true
	runCounting(t, cfg, 6, 0, 0)
	if got := be.received(); len(got) != 6 || got[0].hostname != cfg.EHLO {
		t.Fatalf("received %d messages (want 6) after LHLO %q", len(got), got[0].hostname)
	}
	// An SMTP client to the LMTP server is refused at EHLO: every message fails.
	cfg.LMTP = false
	runCounting(t, cfg, 0, 0, 6)
}

// selfSignedTLS returns a server configuration with a fresh self-signed certificate.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"mx.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestRunSMTPConnectionFailure(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addr)
	cfg.Count = 3

	s := runCounting(t, cfg, 0, 0, 3)
	if len(s.FirstErrors) != 1 || !strings.HasPrefix(s.FirstErrors[0], "connect: ") {
		t.Errorf("errors %q, want connection failures", s.FirstErrors)
	}
}

// runArgs runs mailbench with args and returns its exit status, stdout and stderr.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExitStatus(t *testing.T) {
	addr := startServer(t, &testBackend{refuse: "nobody"}, nil)
	common := []string{"smtp", "--addr", addr, "--from", "bench@example.org", "--count", "6", "--concurrency", "2", "--json"}

	code, stdout, stderr := runArgs(t, append(common, "--to", "u1@test.example")...)
	if code != exitOK || stderr != "" {
		t.Fatalf("all accepted: exit %d, stderr %q; want %d and nothing", code, stderr, exitOK)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if s.Mode != "smtp" || s.Sent != 6 {
		t.Errorf("JSON report: mode %q, sent %d; want smtp, 6", s.Mode, s.Sent)
	}

	code, stdout, stderr = runArgs(t, append(common, "--to", "u1@test.example", "--to", "nobody@test.example")...)
	if code != exitFailed {
		t.Fatalf("some refused: exit %d, want %d", code, exitFailed)
	}
	s = summary{}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if s.Sent != 3 || s.Refused != 3 {
		t.Errorf("JSON report: sent %d, refused %d; want 3, 3", s.Sent, s.Refused)
	}
	for _, want := range []string{"nobody@test.example", "mailbench smtp: 3 refused, 0 failed, of 6 messages"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not mention %q", stderr, want)
		}
	}
}

func TestBadCommandLine(t *testing.T) {
	valid := []string{"--addr", "127.0.0.1:25", "--from", "a@example.org", "--to", "b@example.org"}
	tests := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"unknown flag", append([]string{"smtp", "--bogus"}, valid...), "unknown flag: --bogus"},
		{"not a number", append([]string{"smtp", "--count", "many"}, valid...), `invalid argument "many" for "--count"`},
		{"missing flags", []string{"smtp", "--count", "1"}, `required flag(s) "addr", "from", "to" not set`},
		{"no count or duration", append([]string{"smtp"}, valid...), "give --count or --duration"},
		{"zero concurrency", append([]string{"smtp", "--count", "1", "--concurrency", "0"}, valid...), "--concurrency 0"},
		{"bad address", []string{"smtp", "--count", "1", "--addr", "localhost", "--from", "a@example.org", "--to", "b@example.org"}, "want HOST:PORT"},
		{"display name", []string{"smtp", "--count", "1", "--addr", "127.0.0.1:25", "--from", "A <a@example.org>", "--to", "b@example.org"}, "want a bare address"},
		{"insecure without starttls", append([]string{"smtp", "--count", "1", "--insecure"}, valid...), "--insecure only applies with --starttls"},
		{"argument", append([]string{"smtp", "--count", "1", "extra"}, valid...), `unknown command "extra"`},
		{"unknown mode", []string{"nntp"}, `unknown command "nntp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want one line with %q", stderr, tt.want)
			}
		})
	}
}

func TestValidateAcceptsTemplates(t *testing.T) {
	cfg := testConfig("127.0.0.1:25")
	cfg.To = []string{"u{n}@test.example", "x@test.example"}
	if err := cfg.validate(); err != nil {
		t.Error(err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"posthorn/internal/credentials"
	"posthorn/internal/pop3server"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// pop3Bench is posthorn's POP3 server over a fresh store with the accounts u1, u2 and u3 of
// example.org (password mailenv.Password), each with its own messages.
type pop3Bench struct {
	env      *mailenv.Env
	addr     string // STLS
	tlsAddr  string // implicit TLS
	accounts []store.Account
}

func startPOP3(t *testing.T, perAccount int) *pop3Bench {
	t.Helper()
	env := mailenv.New(t, "pop.test")
	b := &pop3Bench{env: env}
	for i := 1; i <= 3; i++ {
		acc, err := env.Store.AddAccount(context.Background(), fmt.Sprintf("u%d@example.org", i), mailenv.PasswordHash(t))
		if err != nil {
			t.Fatal(err)
		}
		b.accounts = append(b.accounts, acc)
		for n := 1; n <= perAccount; n++ {
			// Sizes differ, and every fifth message has a line that needs byte-stuffing.
			body := strings.Repeat("some text of the body\r\n", n%7+1)
			if n%5 == 0 {
				body += ".\r\n..\r\n"
			}
			env.Deliver(acc, "INBOX", fmt.Sprintf("Subject: %d of u%d\r\n\r\n%s", n, i, body))
		}
	}
	srv := &pop3server.Server{
		Hostname: "pop.test", Store: env.Store, Bodies: env.Blobs.Bodies(), Logger: env.Logger,
		Auth: credentials.NewAuthenticator(env.Store, env.Logger, nil), TLSConfig: env.TLSConfig,
		AllowInsecureAuth: true,
	}
	b.addr, b.tlsAddr = env.Serve(srv.Serve, srv.ServeTLS)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return b
}

// left returns the number of messages in each account's INBOX.
func (b *pop3Bench) left(t *testing.T) []int64 {
	t.Helper()
	var counts []int64
	for _, acc := range b.accounts {
		mb, err := b.env.Store.GetMailbox(context.Background(), acc.ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, mb.MessageCount)
	}
	return counts
}

func pop3TestConfig(addr string) pop3Config {
	return pop3Config{Addr: addr, User: "u{n}@example.org", Password: mailenv.Password, Connections: 3, First: 1, Timeout: time.Minute}
}

func runPOP3Counting(t *testing.T, cfg pop3Config, sent, refused, errors int64) *summary {
	t.Helper()
	s, err := runPOP3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != sent || s.Refused != refused || s.Errors != errors {
		t.Fatalf("retrieved %d, refused %d, errors %d; want %d, %d, %d (errors: %q)",
			s.Sent, s.Refused, s.Errors, sent, refused, errors, s.FirstErrors)
	}
	return s
}

func TestRunPOP3DownloadsEveryMessage(t *testing.T) {
	b := startPOP3(t, 20)
	s := runPOP3Counting(t, pop3TestConfig(b.addr), 60, 0, 0)
	if s.Mode != "pop3" || s.Connections != 3 || s.MessagesPerSecond <= 0 || s.MessageBytes < 40 {
		t.Errorf("summary %+v", s)
	}
	if got := b.left(t); fmt.Sprint(got) != "[20 20 20]" {
		t.Errorf("without --delete, left %v", got)
	}
	// The RETR phase is timed apart from the logins, so a slow password hash does not pass
	// for a slow RETR.
	p := s.POP3
	if p == nil || p.LoginMS.P50 <= 0 || p.RetrSeconds <= 0 || p.RetrSeconds >= s.ElapsedSeconds ||
		p.LoginMS.Max/1000 >= s.ElapsedSeconds || p.RetrPerSecond <= s.MessagesPerSecond {
		t.Errorf("pop3 phases %+v of a run of %.4f s at %.1f messages/s", p, s.ElapsedSeconds, s.MessagesPerSecond)
	}

	// Over STLS and implicit TLS, with deletion.
	cfg := pop3TestConfig(b.addr)
	cfg.StartTLS, cfg.Insecure, cfg.Connections = true, true, 1
	runPOP3Counting(t, cfg, 20, 0, 0)
	cfg = pop3TestConfig(b.tlsAddr)
	cfg.TLS, cfg.Insecure, cfg.Delete = true, true, true
	runPOP3Counting(t, cfg, 60, 0, 0)
	if got := b.left(t); fmt.Sprint(got) != "[0 0 0]" {
		t.Errorf("after --delete, left %v", got)
	}
}

func TestRunPOP3Failures(t *testing.T) {
	b := startPOP3(t, 2)
	cfg := pop3TestConfig(b.addr)
	cfg.Password = "wrong"
	s := runPOP3Counting(t, cfg, 0, 0, 3)
	if len(s.FirstErrors) == 0 || !strings.Contains(s.FirstErrors[0], "-ERR [AUTH]") {
		t.Errorf("errors %q", s.FirstErrors)
	}
	// Connection 4 has no account.
	cfg = pop3TestConfig(b.addr)
	cfg.Connections = 4
	runPOP3Counting(t, cfg, 6, 0, 1)

	cfg = pop3TestConfig("127.0.0.1:1")
	cfg.Connections = 1
	runPOP3Counting(t, cfg, 0, 0, 1)
}

func TestPOP3ExitStatusAndJSON(t *testing.T) {
	b := startPOP3(t, 3)
	code, stdout, stderr := runArgs(t, "pop3", "--addr", b.addr, "--user", "u{n}@example.org",
		"--password", mailenv.Password, "--connections", "2", "--delete", "--json")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if s.Mode != "pop3" || s.Sent != 6 {
		t.Errorf("JSON report: mode %q, sent %d; want pop3, 6", s.Mode, s.Sent)
	}
	if got := b.left(t); fmt.Sprint(got) != "[0 0 3]" {
		t.Errorf("left %v", got)
	}
	code, _, stderr = runArgs(t, "pop3", "--addr", b.addr, "--user", "u{n}@example.org", "--password", mailenv.Password, "--first", "3")
	if code != exitOK || stderr != "" || fmt.Sprint(b.left(t)) != "[0 0 3]" {
		t.Errorf("--first 3: exit %d, stderr %q, left %v", code, stderr, b.left(t))
	}
	code, _, stderr = runArgs(t, "pop3", "--addr", b.addr, "--user", "u{n}@example.org", "--password", "x")
	if code != exitFailed || !strings.Contains(stderr, "0 refused, 1 failed") {
		t.Errorf("wrong password: exit %d, stderr %q", code, stderr)
	}
}

func TestPOP3BadCommandLine(t *testing.T) {
	valid := []string{"--addr", "127.0.0.1:110", "--user", "u{n}@example.org", "--password", "p"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"pop3"}, `required flag(s) "addr", "password", "user" not set`},
		{"bad address", []string{"pop3", "--addr", "localhost", "--user", "u", "--password", "p"}, "want HOST:PORT"},
		{"no {n}", []string{"pop3", "--addr", "127.0.0.1:110", "--user", "u1@example.org", "--password", "p", "--connections", "2"}, "must contain {n}"},
		{"zero connections", append([]string{"pop3", "--connections", "0"}, valid...), "--connections 0"},
		{"negative first", append([]string{"pop3", "--first", "-1"}, valid...), "--first -1"},
		{"tls and starttls", append([]string{"pop3", "--tls", "--starttls"}, valid...), "exclude each other"},
		{"insecure alone", append([]string{"pop3", "--insecure"}, valid...), "--insecure only applies"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and one line with %q", code, stdout, stderr, exitUsage, tt.want)
			}
		})
	}
}

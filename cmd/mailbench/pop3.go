package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// pop3DialTimeout bounds connecting, the greeting and the TLS handshake.
const pop3DialTimeout = 30 * time.Second

// pop3Config is the configuration of a pop3 run.
type pop3Config struct {
	Addr string // server address, host:port
	// User and Password log connection n (counting from First) in, with "{n}" replaced by n: POP3
	// locks a maildrop to one session, so each connection needs its own account.
	User, Password string
	TLS            bool // implicit TLS (port 995 style)
	StartTLS       bool // STLS before logging in (RFC 2595 §4)
	Insecure       bool // with TLS or StartTLS, do not verify the server certificate
	Connections    int  // connections, each downloading one maildrop. Default: 1.
	First          int  // the number of the first connection, which {n} becomes. Default: 1.
	Delete         bool // DELE every message after RETR; QUIT then removes them
	// Time allowed for one command, from sending it to the end of its response; QUIT (which
	// removes the deleted messages) included. Default: 5m.
	Timeout time.Duration
}

func newPOP3Command() *cobra.Command {
	cfg := pop3Config{Connections: 1, First: 1, Timeout: 5 * time.Minute}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pop3 --addr HOST:PORT --user USER --password PASS [--connections C] [--delete] [flags]",
		Short: "Download (and delete) whole maildrops over POP3 and measure messages/s",
		Long: `Download every message of one or more maildrops over POP3 (RFC 1939).

Each of --connections connections logs in (USER and PASS, after STLS with
--starttls; --tls connects with implicit TLS), asks for STAT and LIST, then
sends RETR for every message in turn, each after the previous one's response;
with --delete a DELE follows each RETR, and QUIT removes the messages. The run
ends when every connection has sent QUIT and had its answer: the time QUIT
takes to remove the messages counts.

POP3 lets one session at a time hold a maildrop, so each connection needs its
own account: in --user and --password, {n} is replaced by the connection's
number, counting from --first (--user 'u{n}@test.example' --password 'pass{n}'
logs connection 1 in as u1 with pass1; with --first 5, as u5 with pass5).
With more than one connection, --user must contain {n}.

Rates count the messages retrieved; MB/s counts 10^6 octets of message as LIST
gives them; latency is that of RETR. Over the whole run (elapsed), they include
the logins, whose password hash can cost more than the retrieval: "login" is
connect to the answer to PASS, and "retr" the time from the first RETR to the
last response, without login, LIST and QUIT, with its own rate. A message whose size differs from LIST's
is counted as an error.

Exit status: 0 if every message was retrieved (and deleted), 1 otherwise, 2 for
a bad command line.`,
		Example: "  mailbench pop3 --addr 127.0.0.1:2110 --user 'u{n}@test.example' --password 'pass{n}' --connections 8 --delete",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := runPOP3(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), cmd.ErrOrStderr(), s, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "", "server address, HOST:PORT")
	f.StringVar(&cfg.User, "user", "", "user name; {n} becomes the connection number, from 1")
	f.StringVar(&cfg.Password, "password", "", "password; {n} becomes the connection number, from 1")
	f.BoolVar(&cfg.TLS, "tls", false, "connect with implicit TLS (POP3S)")
	f.BoolVar(&cfg.StartTLS, "starttls", false, "issue STLS before logging in")
	f.BoolVar(&cfg.Insecure, "insecure", false, "with --tls or --starttls, do not verify the server certificate")
	f.IntVar(&cfg.Connections, "connections", cfg.Connections, "connections, each downloading its own maildrop")
	f.IntVar(&cfg.First, "first", cfg.First, "number of the first connection, what {n} becomes for it")
	f.BoolVar(&cfg.Delete, "delete", false, "delete every message retrieved")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "time allowed for one command")
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	for _, name := range []string{"addr", "user", "password"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name above is misspelt
		}
	}
	return cmd
}

// validate refuses a configuration that cannot make a meaningful run.
func (cfg *pop3Config) validate() error {
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT", cfg.Addr)
	}
	switch {
	case cfg.User == "" || strings.ContainsAny(cfg.User, " \r\n"):
		return fmt.Errorf("--user %q: want a user name without spaces", cfg.User)
	case strings.ContainsAny(cfg.Password, "\r\n"):
		return errors.New("--password: no line breaks")
	case cfg.Connections < 1:
		return fmt.Errorf("--connections %d: must be at least 1", cfg.Connections)
	case cfg.First < 0:
		return fmt.Errorf("--first %d: must not be negative", cfg.First)
	case cfg.Connections > 1 && !strings.Contains(cfg.User, "{n}"):
		return errors.New("--user: with more than one connection it must contain {n}: POP3 locks a maildrop to one session")
	case cfg.TLS && cfg.StartTLS:
		return errors.New("--tls and --starttls exclude each other")
	case cfg.Insecure && !cfg.TLS && !cfg.StartTLS:
		return errors.New("--insecure only applies with --tls or --starttls")
	case cfg.Timeout <= 0:
		return fmt.Errorf("--timeout %s: must be positive", cfg.Timeout)
	}
	return nil
}

// runPOP3 downloads the maildrops as cfg says and returns what happened. It returns an error
// only for an invalid cfg; failures are counted in the summary. Canceling ctx stops the run:
// connections send QUIT after the message in flight.
func runPOP3(ctx context.Context, cfg pop3Config) (*summary, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	errs := &errorSample{max: maxErrorSample}
	tallies := make([]tally, cfg.Connections)
	workers := make([]*pop3Worker, cfg.Connections)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range tallies {
		w := &pop3Worker{cfg: &cfg, n: cfg.First + i, tally: &tallies[i], errors: errs}
		workers[i] = w
		wg.Go(func() { w.work(ctx) })
	}
	wg.Wait()
	s := &summary{Mode: "pop3", Addr: cfg.Addr, Concurrency: cfg.Connections}
	s.addTallies(tallies, time.Since(start))
	s.POP3 = pop3Phases(workers, s.Sent)
	var bytes int64
	for _, t := range tallies {
		bytes += t.bytes
	}
	if s.Sent > 0 {
		s.MessageBytes = int(bytes / s.Sent) // the mean size of the messages retrieved
	}
	s.FirstErrors = errs.list
	return s, nil
}

// pop3Worker downloads one maildrop on one connection.
type pop3Worker struct {
	cfg    *pop3Config
	n      int // connection number, from cfg.First
	tally  *tally
	errors *errorSample
	conn   net.Conn
	r      *bufio.Reader
	// login is the time from connecting to the answer to PASS; retrStart and retrEnd bound
	// the RETR (and DELE) commands, without the login, LIST and QUIT.
	login              time.Duration
	retrStart, retrEnd time.Time
}

// pop3Refusal is an -ERR response.
type pop3Refusal struct{ line string }

func (e *pop3Refusal) Error() string { return e.line }

// work runs the session; a failure before the messages are known counts as one error.
func (w *pop3Worker) work(ctx context.Context) {
	sizes, err := w.open(ctx)
	if err != nil {
		w.fail(err)
		if w.conn != nil {
			_ = w.conn.Close()
		}
		return
	}
	defer w.conn.Close()
	w.retrStart = time.Now()
	defer func() {
		if w.retrEnd.IsZero() {
			w.retrEnd = time.Now()
		}
	}()
	for i, size := range sizes {
		if ctx.Err() != nil {
			break
		}
		if err := w.retrieve(i+1, size); err != nil {
			var refusal *pop3Refusal
			if !errors.As(err, &refusal) {
				w.fail(err) // the connection is unusable
				return
			}
			w.tally.refused++
			w.errors.add(err)
		}
	}
	w.retrEnd = time.Now()
	// QUIT ends the session; in the UPDATE state the server removes the deleted messages
	// (RFC 1939 §6), which a failure here leaves in place.
	if _, err := w.command("QUIT"); err != nil {
		w.fail(fmt.Errorf("quit: %w", err))
	}
}

// open connects, logs in and returns the sizes of the messages (LIST).
func (w *pop3Worker) open(ctx context.Context) ([]int64, error) {
	cfg := w.cfg
	connected := time.Now()
	dialer := net.Dialer{Timeout: pop3DialTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	w.tally.connections++
	host, _, _ := net.SplitHostPort(cfg.Addr) // checked by validate
	tlsConfig := &tls.Config{ServerName: host, InsecureSkipVerify: cfg.Insecure}
	if cfg.TLS {
		conn = tls.Client(conn, tlsConfig)
	}
	w.conn, w.r = conn, bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetDeadline(time.Now().Add(pop3DialTimeout))
	if _, err := w.status(); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if cfg.StartTLS {
		if _, err := w.command("STLS"); err != nil {
			return nil, fmt.Errorf("stls: %w", err)
		}
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("stls: %w", err)
		}
		w.conn, w.r = tc, bufio.NewReaderSize(tc, 64<<10)
	}
	user := strings.ReplaceAll(cfg.User, "{n}", strconv.Itoa(w.n))
	if _, err := w.command("USER " + user); err != nil {
		return nil, fmt.Errorf("user %s: %w", user, err)
	}
	if _, err := w.command("PASS " + strings.ReplaceAll(cfg.Password, "{n}", strconv.Itoa(w.n))); err != nil {
		return nil, fmt.Errorf("pass (%s): %w", user, err)
	}
	w.login = time.Since(connected)
	if _, err := w.command("LIST"); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var sizes []int64
	err = w.multiline(func(line []byte) error {
		num, size, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
		n, err1 := strconv.Atoi(string(num))
		octets, err2 := strconv.ParseInt(string(size), 10, 64)
		if !ok || err1 != nil || err2 != nil || n != len(sizes)+1 {
			return fmt.Errorf("list: bad scan listing %q", line)
		}
		sizes = append(sizes, octets)
		return nil
	})
	return sizes, err
}

// retrieve downloads message n (and deletes it with --delete) and records it.
func (w *pop3Worker) retrieve(n int, size int64) error {
	start := time.Now()
	if _, err := w.command("RETR " + strconv.Itoa(n)); err != nil {
		return fmt.Errorf("retr %d: %w", n, err)
	}
	var got int64
	err := w.multiline(func(line []byte) error {
		got += int64(len(line))
		return nil
	})
	if err != nil {
		return fmt.Errorf("retr %d: %w", n, err)
	}
	latency := time.Since(start)
	if got != size {
		w.fail(fmt.Errorf("retr %d: %d octets, LIST said %d", n, got, size))
		return nil
	}
	if w.cfg.Delete {
		if _, err := w.command("DELE " + strconv.Itoa(n)); err != nil {
			return fmt.Errorf("dele %d: %w", n, err)
		}
	}
	w.tally.accepted(int(size), latency)
	return nil
}

// command sends a command and reads its status line: the text after +OK, a *pop3Refusal for
// -ERR, or another error when the connection failed.
func (w *pop3Worker) command(line string) (string, error) {
	_ = w.conn.SetDeadline(time.Now().Add(w.cfg.Timeout))
	if _, err := w.conn.Write([]byte(line + "\r\n")); err != nil {
		return "", err
	}
	return w.status()
}

func (w *pop3Worker) status() (string, error) {
	line, err := w.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimPrefix(rest, " "), nil
	}
	if strings.HasPrefix(line, "-ERR") {
		return "", &pop3Refusal{line}
	}
	return "", fmt.Errorf("unexpected response %.80q", line)
}

// multiline reads the lines of a multi-line response up to the "." line, removes the
// byte-stuffing (RFC 1939 §3) and passes each line, with its line end, to fn.
func (w *pop3Worker) multiline(fn func(line []byte) error) error {
	partial := false // the previous piece ended inside a long line
	for {
		line, err := w.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		if !partial {
			if bytes.Equal(line, []byte(".\r\n")) {
				return nil
			}
			if len(line) > 0 && line[0] == '.' {
				line = line[1:]
			}
		}
		partial = err == bufio.ErrBufferFull
		if err := fn(line); err != nil {
			return err
		}
	}
}

// fail records a failure other than a refusal.
func (w *pop3Worker) fail(err error) {
	w.tally.errors++
	w.errors.add(fmt.Errorf("connection %d: %w", w.n, err))
}

// pop3Phases splits a run's time: the logins (connect to the answer to PASS; argon2id and the
// like are there) and the retrieval, from the first connection's first RETR to the last
// connection's last response, without login, LIST and QUIT. With several connections the
// retrieval of one may overlap the login of another; with one, the phases are apart.
func pop3Phases(workers []*pop3Worker, retrieved int64) *pop3Summary {
	var logins []time.Duration
	var first, last time.Time
	for _, w := range workers {
		if w.login > 0 {
			logins = append(logins, w.login)
		}
		if w.retrStart.IsZero() {
			continue
		}
		if first.IsZero() || w.retrStart.Before(first) {
			first = w.retrStart
		}
		if w.retrEnd.After(last) {
			last = w.retrEnd
		}
	}
	p := &pop3Summary{LoginMS: summarizeLatencies(logins)}
	if !first.IsZero() {
		p.RetrSeconds = last.Sub(first).Seconds()
		if p.RetrSeconds > 0 {
			p.RetrPerSecond = float64(retrieved) / p.RetrSeconds
		}
	}
	return p
}

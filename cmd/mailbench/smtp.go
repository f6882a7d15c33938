package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/spf13/cobra"
)

const (
	// maxMessageSize bounds --size, in bytes. The body is held in memory once per run.
	maxMessageSize = 1 << 30
	// smtpDialTimeout bounds connecting to the server.
	smtpDialTimeout = 30 * time.Second
	// smtpReplyTimeout bounds the wait for each reply, the final one of DATA included. It is
	// shorter than the RFC 5321 §4.5.3.2 timeouts: a load tool should report a stall, not wait
	// ten minutes for it.
	smtpReplyTimeout = time.Minute
	// maxErrorSample is how many distinct errors a run keeps to show.
	maxErrorSample = 5
)

// smtpConfig is the configuration of an SMTP run.
type smtpConfig struct {
	Addr  string   // server address, host:port
	From  string   // envelope sender and From header
	To    []string // recipients, one per message in turn; "{n}" is replaced, see expandRecipient
	Count int64    // messages to attempt in all; 0: no limit (then Duration is required)
	// Concurrent connections, each driven by one worker. Default: 10.
	Concurrency int
	Size        int // approximate size of each message, header included, in bytes. Default: 4096.
	// A file holding the message to send, as it is, every time instead of generated ones ("":
	// generated). Size is then the file's.
	MessageFile string
	EHLO        string // name sent in EHLO. Default: localhost.
	StartTLS    bool   // issue STARTTLS before sending (RFC 3207)
	LMTP        bool   // speak LMTP (RFC 2033): LHLO, and a reply per recipient after the data
	Insecure    bool   // with StartTLS, do not verify the server certificate
	// AUTH PLAIN (RFC 4954) with these credentials after EHLO, for a submission listener.
	AuthUser, AuthPassword string
	// Messages sent on a connection before it is closed and a new one opened; 0: no limit.
	PerConnection int
	// Time after which no new message is started; 0: no limit. Messages in flight finish.
	Duration time.Duration
}

func newSMTPCommand() *cobra.Command {
	cfg := smtpConfig{Concurrency: 10, Size: 4096, EHLO: "localhost"}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "smtp --addr HOST:PORT --from ADDR --to ADDR (--count N | --duration D) [flags]",
		Short: "Send messages over SMTP and measure throughput and latency",
		Long: `Send messages over SMTP (RFC 5321) from several connections at once.

Each of --concurrency workers opens a connection, sends EHLO (and STARTTLS with
--starttls), then delivers messages one after another on it (MAIL, RCPT, DATA),
opening a new connection after --per-connection messages. The run ends when
--count messages have been attempted or --duration has passed, whichever comes
first; messages in flight then finish.

Each message has one recipient; the --to addresses are used in turn. In an
address, {n} is replaced by the message's number (counting from 0) modulo 1000,
to spread the messages over many mailboxes: --to 'u{n}@test.example' sends to
u0@test.example ... u999@test.example.

Messages are RFC 5322 text/plain messages of about --size bytes, header
included, with a Message-ID that holds the run id; with --message, that file's
message every time. Latency is measured from
MAIL FROM to the final reply of DATA; rates and latencies count accepted
messages only. MB/s counts 10^6 bytes of message (before dot-stuffing).

Exit status: 0 if all messages were accepted, 1 if any was refused or failed,
2 for a bad command line.`,
		Example: "  mailbench smtp --addr 127.0.0.1:25 --from a@example.org --to 'u{n}@test.example' --count 10000 --concurrency 50 --size 20000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := runSMTP(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), cmd.ErrOrStderr(), s, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "", "server address, HOST:PORT")
	f.StringVar(&cfg.From, "from", "", "envelope sender and From address")
	f.StringSliceVar(&cfg.To, "to", nil, "recipient; repeat or separate with commas to rotate; {n} becomes the message number modulo 1000")
	f.Int64Var(&cfg.Count, "count", 0, "messages to attempt in all (0: no limit, needs --duration)")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "concurrent connections")
	f.IntVar(&cfg.Size, "size", cfg.Size, "approximate message size in bytes, header included")
	f.StringVar(&cfg.MessageFile, "message", "", "send this RFC 5322 message file, as it is, every time (e.g. from mailbench sample); --size is then ignored")
	f.StringVar(&cfg.EHLO, "ehlo", cfg.EHLO, "name to send in EHLO")
	f.BoolVar(&cfg.StartTLS, "starttls", false, "use STARTTLS")
	f.BoolVar(&cfg.LMTP, "lmtp", false, "speak LMTP (RFC 2033), e.g. to Dovecot's LMTP service")
	f.BoolVar(&cfg.Insecure, "insecure", false, "with --starttls, do not verify the server certificate")
	f.StringVar(&cfg.AuthUser, "auth-user", "", "authenticate with AUTH PLAIN as this user (submission)")
	f.StringVar(&cfg.AuthPassword, "auth-password", "", "password for --auth-user")
	f.IntVar(&cfg.PerConnection, "per-connection", 0, "messages per connection before reconnecting (0: no limit)")
	f.DurationVar(&cfg.Duration, "duration", 0, "stop starting messages after this time, e.g. 30s (0: no limit)")
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	for _, name := range []string{"addr", "from", "to"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name above is misspelt
		}
	}
	return cmd
}

// validate refuses a configuration that cannot make a meaningful run.
func (cfg *smtpConfig) validate() error {
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT", cfg.Addr)
	}
	if err := validateAddress("--from", cfg.From); err != nil {
		return err
	}
	if len(cfg.To) == 0 {
		return errors.New("--to: at least one recipient is needed")
	}
	for _, to := range cfg.To {
		if err := validateAddress("--to", expandRecipient(to, 0)); err != nil {
			return err
		}
	}
	switch {
	case cfg.Count < 0:
		return fmt.Errorf("--count %d: must not be negative", cfg.Count)
	case cfg.Duration < 0:
		return fmt.Errorf("--duration %s: must not be negative", cfg.Duration)
	case cfg.Count == 0 && cfg.Duration == 0:
		return errors.New("give --count or --duration (or both: whichever comes first)")
	case cfg.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: must be at least 1", cfg.Concurrency)
	case cfg.Size < 1 || cfg.Size > maxMessageSize:
		return fmt.Errorf("--size %d: must be between 1 and %d", cfg.Size, maxMessageSize)
	case cfg.PerConnection < 0:
		return fmt.Errorf("--per-connection %d: must not be negative", cfg.PerConnection)
	case cfg.EHLO == "" || strings.ContainsAny(cfg.EHLO, " \t\r\n"):
		return fmt.Errorf("--ehlo %q: want a host name", cfg.EHLO)
	case cfg.Insecure && !cfg.StartTLS:
		return errors.New("--insecure only applies with --starttls")
	case cfg.LMTP && (cfg.StartTLS || cfg.AuthUser != ""):
		return errors.New("--lmtp: LMTP is spoken in plain text without AUTH here; leave out --starttls and --auth-user")
	}
	return nil
}

// validateAddress checks that addr is a bare address (local@domain), usable both in the
// envelope and in a header.
func validateAddress(flag, addr string) error {
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr || parsed.Name != "" {
		return fmt.Errorf("%s %q: want a bare address such as user@example.org", flag, addr)
	}
	return nil
}

// smtpRun is the state the workers of one run share.
type smtpRun struct {
	cfg       *smtpConfig
	template  *messageTemplate
	tlsConfig *tls.Config // nil without STARTTLS
	next      atomic.Int64
	errors    *errorSample
}

// runSMTP sends messages as cfg says and returns what happened. It returns an error only for an
// invalid cfg; refused and failed messages are counted in the summary. Canceling ctx stops the
// run like the end of cfg.Duration does.
func runSMTP(ctx context.Context, cfg smtpConfig) (*summary, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	runID := strings.ToLower(rand.Text()[:16])
	r := &smtpRun{cfg: &cfg, errors: &errorSample{max: maxErrorSample}}
	if cfg.MessageFile != "" {
		msg, err := os.ReadFile(cfg.MessageFile)
		if err != nil {
			return nil, fmt.Errorf("--message: %w", err)
		}
		r.template = newVerbatimTemplate(msg)
		cfg.Size = len(msg)
	} else {
		r.template = newMessageTemplate(runID, cfg.From, expandRecipient(cfg.To[0], 0), cfg.Size)
	}
	if cfg.StartTLS {
		host, _, _ := net.SplitHostPort(cfg.Addr) // checked by validate
		r.tlsConfig = &tls.Config{ServerName: host, InsecureSkipVerify: cfg.Insecure}
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	workers := cfg.Concurrency
	if cfg.Count > 0 {
		workers = int(min(int64(workers), cfg.Count))
	}

	tallies := make([]tally, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range tallies {
		w := &smtpWorker{run: r, tally: &tallies[i]}
		wg.Go(func() { w.work(ctx) })
	}
	wg.Wait()

	s := &summary{
		Mode:         "smtp",
		Addr:         cfg.Addr,
		RunID:        runID,
		Concurrency:  workers,
		MessageBytes: cfg.Size,
	}
	s.addTallies(tallies, time.Since(start))
	s.FirstErrors = r.errors.list
	return s, nil
}

// claim returns the number of the next message to attempt, or false when the count is reached.
func (r *smtpRun) claim() (int64, bool) {
	n := r.next.Add(1) - 1
	return n, r.cfg.Count == 0 || n < r.cfg.Count
}

// smtpWorker sends messages on one connection at a time.
type smtpWorker struct {
	run    *smtpRun
	tally  *tally
	client *smtp.Client // nil between connections
	onConn int          // messages attempted on client
	header []byte       // reused for each message's header
}

// work sends messages until the count is reached or ctx is done.
func (w *smtpWorker) work(ctx context.Context) {
	defer w.hangUp()
	for ctx.Err() == nil {
		n, ok := w.run.claim()
		if !ok {
			return
		}
		w.attempt(ctx, n)
	}
}

// attempt sends message number n, connecting first if needed, and records the outcome.
func (w *smtpWorker) attempt(ctx context.Context, n int64) {
	if w.client != nil && w.run.cfg.PerConnection > 0 && w.onConn >= w.run.cfg.PerConnection {
		w.hangUp()
	}
	if w.client == nil {
		if err := w.connect(ctx); err != nil {
			if ctx.Err() != nil {
				return // the run ended while connecting: the message was not attempted
			}
			w.fail(fmt.Errorf("connect: %w", err))
			return
		}
	}
	w.onConn++

	cfg := w.run.cfg
	to := expandRecipient(cfg.To[n%int64(len(cfg.To))], n)
	w.header = w.run.template.appendHeader(w.header[:0], n, to, time.Now())
	start := time.Now()
	err := w.send(to)
	latency := time.Since(start)

	var refusal *smtp.SMTPError
	switch {
	case err == nil:
		w.tally.accepted(len(w.header)+len(w.run.template.body), latency)
	case errors.As(err, &refusal):
		w.tally.refused++
		w.run.errors.add(err)
		// RFC 5321 §4.1.1.5: RSET ends the transaction, so the connection can carry the next
		// message. go-smtp sends EHLO again before the next MAIL.
		if err := w.client.Reset(); err != nil {
			w.drop()
		}
	default:
		w.fail(err)
		w.drop()
	}
}

// fail records a message that failed for a reason other than a refusal.
func (w *smtpWorker) fail(err error) {
	w.tally.errors++
	w.run.errors.add(err)
}

// connect opens a connection and greets the server (RFC 5321 §4.1.1.1, RFC 3207 for STARTTLS).
func (w *smtpWorker) connect(ctx context.Context) error {
	dialer := net.Dialer{Timeout: smtpDialTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", w.run.cfg.Addr)
	if err != nil {
		return err
	}
	w.tally.connections++
	var c *smtp.Client
	stage := "ehlo"
	if w.run.tlsConfig != nil {
		stage = "ehlo after starttls" // where the TLS handshake happens, and may fail
		// go-smtp greets with "EHLO localhost" before STARTTLS, and waits for those replies with
		// its default timeout; Hello below names us, and the timeouts apply, once TLS is up.
		c, err = smtp.NewClientStartTLS(conn, w.run.tlsConfig)
		if err != nil {
			return fmt.Errorf("starttls: %w", err) // NewClientStartTLS closed conn
		}
	} else if w.run.cfg.LMTP {
		c = smtp.NewClientLMTP(conn) // Hello sends LHLO
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = smtpReplyTimeout
	c.SubmissionTimeout = smtpReplyTimeout
	if err := c.Hello(w.run.cfg.EHLO); err != nil {
		// The connection is useless; its Close error adds nothing to err.
		_ = c.Close()
		return fmt.Errorf("%s: %w", stage, err)
	}
	if w.run.cfg.AuthUser != "" {
		if err := c.Auth(sasl.NewPlainClient("", w.run.cfg.AuthUser, w.run.cfg.AuthPassword)); err != nil {
			_ = c.Close()
			return fmt.Errorf("auth: %w", err)
		}
	}
	w.client, w.onConn = c, 0
	return nil
}

// send runs one mail transaction (RFC 5321 §3.3) for the message in w.header and the body.
func (w *smtpWorker) send(to string) error {
	if err := w.client.Mail(w.run.cfg.From, nil); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := w.client.Rcpt(to, nil); err != nil {
		return fmt.Errorf("rcpt to <%s>: %w", to, err)
	}
	data, err := w.client.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := data.Write(w.header); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := data.Write(w.run.template.body); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if w.run.cfg.LMTP {
		err = data.Close() // reads the reply of each recipient (RFC 2033 §4.2)
	} else {
		_, err = data.CloseWithResponse()
	}
	if err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	return nil
}

// hangUp ends the connection, if any, with QUIT (RFC 5321 §4.1.1.10).
func (w *smtpWorker) hangUp() {
	if w.client == nil {
		return
	}
	if err := w.client.Quit(); err != nil {
		// The messages on this connection are already counted; a server that does not answer
		// QUIT loses nothing, so the connection is just closed.
		w.drop()
		return
	}
	w.client = nil
}

// drop closes the connection without QUIT, after an error that leaves it unusable. The Close
// error is ignored: the connection is already known to be broken.
func (w *smtpWorker) drop() {
	_ = w.client.Close()
	w.client = nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// fillConfig is the configuration of a fill run.
type fillConfig struct {
	Count int    // messages to store
	Seed  uint64 // which corpus; the same seed gives the same messages. Default: 1.
	To    string // To header of the messages. Default: u1@test.example.
	// Maildir to write the messages into, as files in cur/; "" to APPEND them to Server instead.
	Maildir     string
	Server      imapServer
	Mailbox     string // mailbox to APPEND to. Default: INBOX.
	Concurrency int    // workers, each with its own connection. Default: 8.
}

func newFillCommand() *cobra.Command {
	cfg := fillConfig{Seed: 1, To: "u1@test.example", Mailbox: "INBOX", Concurrency: 8}
	cmd := &cobra.Command{
		Use:   "fill --count N (--maildir DIR | --addr HOST:PORT --user USER --password PASS) [flags]",
		Short: "Fill a mailbox with a deterministic corpus, over IMAP or straight into a Maildir",
		Long: `Store --count messages of a deterministic corpus in one mailbox, so that two
servers can be filled with the same mail and measured with 'mailbench imap'.

Message n of --seed is the same on every run: text/plain, 2 to 4 KiB, Date
2025-01-01 plus n times 137 s, Message-ID <fill-SEED-n@mailbench.invalid>,
a subject of 3 to 7 words (each word in about 3% of the subjects: 'invoice' is
the default of imap --header-term) and a body with one of 1,000 made-up
reference codes (each in about 0.1% of the bodies: 'qkapemi' is the default of
imap --body-term).

With --addr, messages are stored with APPEND (RFC 9051 §6.3.12) into --mailbox
(created first if need be), with the Date as internal date, from --concurrency
connections. With
--maildir, they are written as files into DIR/cur (through DIR/tmp, as Maildir
requires) with LF line ends, the sizes in the name (S= and W=, as Dovecot
writes them) and the Date as modification time; nothing is fsync'd and the
server must not be using the Maildir meanwhile. Give the files to the
server's user afterwards (chown -R).`,
		Example: "  mailbench fill --count 100000 --addr 127.0.0.1:2143 --user u1@test.example --password secret\n" +
			"  mailbench fill --count 100000 --maildir /srv/mail/test.example/u1/Maildir",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if err := runFill(cmd.Context(), cfg, cmd.ErrOrStderr()); err != nil {
				return err
			}
			elapsed := time.Since(start)
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "filled %d messages in %.1f s (%.0f messages/s)\n",
				cfg.Count, elapsed.Seconds(), float64(cfg.Count)/elapsed.Seconds())
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Count, "count", 0, "messages to store")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "corpus: the same seed gives the same messages")
	f.StringVar(&cfg.To, "to", cfg.To, "To address of the messages")
	f.StringVar(&cfg.Maildir, "maildir", "", "write the messages into this Maildir instead of appending them over IMAP")
	cfg.Server.addFlags(f)
	f.StringVar(&cfg.Mailbox, "mailbox", cfg.Mailbox, "mailbox to append to")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "workers, each with a connection")
	if err := cmd.MarkFlagRequired("count"); err != nil {
		panic(err) // the flag name above is misspelt
	}
	return cmd
}

// validate refuses a configuration that cannot make a meaningful run.
func (cfg *fillConfig) validate() error {
	switch {
	case cfg.Count < 1:
		return fmt.Errorf("--count %d: must be at least 1", cfg.Count)
	case cfg.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: must be at least 1", cfg.Concurrency)
	case cfg.Maildir != "" && cfg.Server.Addr != "":
		return errors.New("give --maildir or --addr, not both")
	case cfg.Maildir == "" && cfg.Server.Addr == "":
		return errors.New("give --maildir or --addr")
	case !quotable(cfg.Mailbox) || cfg.Mailbox == "":
		return fmt.Errorf("--mailbox %q: want printable ASCII", cfg.Mailbox)
	}
	if err := validateAddress("--to", cfg.To); err != nil {
		return err
	}
	if cfg.Maildir != "" {
		return nil
	}
	return cfg.Server.validate()
}

// runFill stores the messages. It returns an error for an invalid cfg (a usage error) and a
// runFailure when a message could not be stored; the messages stored before stay.
func runFill(ctx context.Context, cfg fillConfig, progress io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.Maildir == "" && !strings.EqualFold(cfg.Mailbox, "INBOX") {
		if err := createMailbox(ctx, &cfg.Server, cfg.Mailbox); err != nil {
			return runFailure{err}
		}
	}
	var next, done atomic.Int64
	store := func(s fillSink) error {
		for ctx.Err() == nil {
			n := int(next.Add(1) - 1)
			if n >= cfg.Count {
				return nil
			}
			msg, date := corpusMessage(cfg.Seed, n, cfg.To)
			if err := s.store(n, msg, date); err != nil {
				return fmt.Errorf("message %d: %w", n, err)
			}
			if d := done.Add(1); d%10000 == 0 {
				fmt.Fprintf(progress, "fill: %d of %d\n", d, cfg.Count)
			}
		}
		return ctx.Err()
	}
	err := inParallel(cfg.Concurrency, cfg.Concurrency, func(int) error {
		s, err := cfg.open(ctx)
		if err != nil {
			return err
		}
		err = store(s)
		if cerr := s.close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return runFailure{err}
	}
	return nil
}

// createMailbox creates mailbox (RFC 9051 §6.3.4) unless it exists: a NO, such as
// [ALREADYEXISTS], is no error; if the mailbox cannot be made, the first APPEND says so.
func createMailbox(ctx context.Context, server *imapServer, mailbox string) error {
	c, err := dialIMAP(ctx, server)
	if err != nil {
		return err
	}
	err = c.run("CREATE "+quote(mailbox), nil)
	if errors.As(err, new(*imapStatusError)) {
		err = nil // it exists, or cannot be made and the first APPEND says why
	}
	if lerr := c.logout(); err == nil {
		err = lerr
	}
	return err
}

// fillSink is where a fill worker stores messages.
type fillSink interface {
	store(n int, msg []byte, date time.Time) error
	close() error
}

// open returns a new sink for one worker.
func (cfg *fillConfig) open(ctx context.Context) (fillSink, error) {
	if cfg.Maildir != "" {
		return newMaildirSink(cfg.Maildir, cfg.Seed)
	}
	c, err := dialIMAP(ctx, &cfg.Server)
	if err != nil {
		return nil, err
	}
	return &appendSink{conn: c, mailbox: cfg.Mailbox}, nil
}

// appendSink stores messages with APPEND on its own connection.
type appendSink struct {
	conn    *imapConn
	mailbox string
}

func (s *appendSink) store(_ int, msg []byte, date time.Time) error {
	return s.conn.appendMessage(s.mailbox, date, msg)
}

func (s *appendSink) close() error { return s.conn.logout() }

// maildirSink writes messages as Maildir files (https://cr.yp.to/proto/maildir.html): into tmp/
// first, then renamed into cur/ with no flags (":2,"): not \Recent, not \Seen.
type maildirSink struct {
	dir  string
	seed uint64
	buf  []byte // the message with LF line ends, reused
}

func newMaildirSink(dir string, seed uint64) (*maildirSink, error) {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	return &maildirSink{dir: dir, seed: seed}, nil
}

func (s *maildirSink) store(n int, msg []byte, date time.Time) error {
	// Maildir files have the local line ends: LF. S= is the file's size, W= the size with CRLF
	// (RFC822.SIZE), which spares the server reading the file to learn it.
	s.buf = s.buf[:0]
	for _, c := range msg {
		if c != '\r' {
			s.buf = append(s.buf, c)
		}
	}
	base := fmt.Sprintf("%d.M%dP%d.mailbench,S=%d,W=%d", date.Unix(), n, s.seed, len(s.buf), len(msg))
	tmp := filepath.Join(s.dir, "tmp", base)
	if err := os.WriteFile(tmp, s.buf, 0o600); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, date, date); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, "cur", base+":2,"))
}

func (s *maildirSink) close() error { return nil }

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/spf13/cobra"
)

// sinkOptions are the flags of mailbench sink.
type sinkOptions struct {
	listen   string
	expect   int
	record   string
	duration time.Duration
	interval time.Duration
	keepDir  string
	keep     int
}

func newSinkCommand() *cobra.Command {
	var o sinkOptions
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Accept SMTP on loopback and count messages, to measure a sender's throughput",
		Long: "sink is an SMTP server that accepts every message and counts messages and recipients,\n" +
			"printing the rate each interval and a report at the end. A recipient whose local part\n" +
			"starts with \"defer\" gets 451 4.3.0 and one starting with \"reject\" gets 550 5.1.1, so a\n" +
			"sender's retries and bounces can be exercised. It ends after --expect messages, after\n" +
			"--duration, or on SIGINT. With --record, each accepted recipient is appended to a file as\n" +
			"\"recipient<TAB>Message-ID\", so duplicates can be counted. With --keep-dir, the first --keep\n" +
			"messages are written whole to that directory (1.eml, 2.eml...), to check what arrived.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSink(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:2526", "address to listen on")
	f.IntVar(&o.expect, "expect", 0, "stop after this many messages (0: run until --duration or SIGINT)")
	f.StringVar(&o.record, "record", "", "append one line per accepted recipient to this file")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (0: no limit)")
	f.DurationVar(&o.interval, "interval", time.Second, "print the rate this often (0: never)")
	f.StringVar(&o.keepDir, "keep-dir", "", "write the first --keep messages whole to this directory")
	f.IntVar(&o.keep, "keep", 10, "how many messages --keep-dir keeps")
	return cmd
}

// sinkCounter counts what the sink accepted.
type sinkCounter struct {
	mu         sync.Mutex
	messages   int
	recipients int
	deferred   int
	rejected   int
	conns      int
	first      time.Time // the first accepted message's MAIL
	last       time.Time // the last accepted message's end of data
	record     *bufio.Writer
	keepDir    string
	keep       int
	kept       int // messages written to keepDir or being written
	expect     int
	done       chan struct{}
	doneClosed bool
}

func runSink(ctx context.Context, o sinkOptions, stdout, stderr io.Writer) error {
	if o.expect < 0 {
		return errors.New("--expect must not be negative")
	}
	c := &sinkCounter{expect: o.expect, done: make(chan struct{}), keepDir: o.keepDir, keep: o.keep}
	if o.record != "" {
		f, err := os.OpenFile(o.record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		c.record = bufio.NewWriter(f)
		defer c.record.Flush()
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := smtp.NewServer(c)
	srv.Domain = "mailbench-sink"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.MaxRecipients = 1000
	srv.MaxMessageBytes = 64 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(l)
	defer srv.Close()
	fmt.Fprintf(stderr, "sink: listening on %s\n", l.Addr())

	start := time.Now()
	var tick <-chan time.Time
	if o.interval > 0 {
		t := time.NewTicker(o.interval)
		defer t.Stop()
		tick = t.C
	}
	var limit <-chan time.Time
	if o.duration > 0 {
		limit = time.After(o.duration)
	}
	prev := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-limit:
			break loop
		case <-c.done:
			break loop
		case <-tick:
			c.mu.Lock()
			n := c.messages
			c.mu.Unlock()
			fmt.Fprintf(stderr, "sink: %6.1fs %d messages (%.0f/s)\n", time.Since(start).Seconds(), n,
				float64(n-prev)/o.interval.Seconds())
			prev = n
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.record != nil {
		if err := c.record.Flush(); err != nil {
			return err
		}
	}
	span := c.last.Sub(c.first)
	rate := 0.0
	if span > 0 {
		rate = float64(c.messages) / span.Seconds()
	}
	_, err = fmt.Fprintf(stdout, "sink: %d messages, %d recipients, %d deferred, %d rejected, %d connections; "+
		"first to last message %.3fs: %.1f messages/s\n",
		c.messages, c.recipients, c.deferred, c.rejected, c.conns, span.Seconds(), rate)
	return err
}

func (c *sinkCounter) NewSession(*smtp.Conn) (smtp.Session, error) {
	c.mu.Lock()
	c.conns++
	c.mu.Unlock()
	return &sinkSession{c: c}, nil
}

type sinkSession struct {
	c     *sinkCounter
	start time.Time
	rcpts []string
}

func (s *sinkSession) Reset()        { s.rcpts = nil }
func (s *sinkSession) Logout() error { return nil }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error {
	s.start = time.Now()
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	local := strings.ToLower(to)
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	switch {
	case strings.HasPrefix(local, "defer"):
		s.c.mu.Lock()
		s.c.deferred++
		s.c.mu.Unlock()
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "deferred by mailbench sink"}
	case strings.HasPrefix(local, "reject"):
		s.c.mu.Lock()
		s.c.rejected++
		s.c.mu.Unlock()
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "rejected by mailbench sink"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	if n := s.c.keepNumber(); n > 0 {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.c.keepDir, fmt.Sprintf("%d.eml", n)), data, 0o644); err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	// Only the header is kept (for the Message-ID); the body is read and dropped.
	br := bufio.NewReader(r)
	var msgID string
	if s.c.record != nil {
		var head bytes.Buffer
		for {
			line, err := br.ReadSlice('\n')
			head.Write(line)
			if err != nil || len(bytes.TrimSpace(line)) == 0 {
				break
			}
		}
		h, _ := textproto.NewReader(bufio.NewReader(io.MultiReader(&head, strings.NewReader("\r\n")))).ReadMIMEHeader()
		msgID = h.Get("Message-Id")
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	now := time.Now()
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.messages == 0 {
		c.first = s.start
	}
	c.messages++
	c.recipients += len(s.rcpts)
	c.last = now
	if c.record != nil {
		for _, rcpt := range s.rcpts {
			fmt.Fprintf(c.record, "%s\t%s\n", rcpt, msgID)
		}
		// Flushed per message so that a reader sees every acknowledged recipient.
		if err := c.record.Flush(); err != nil {
			return err
		}
	}
	if c.expect > 0 && c.messages >= c.expect && !c.doneClosed {
		c.doneClosed = true
		close(c.done)
	}
	return nil
}

// keepNumber returns the number of the message to write to keepDir, 0 when none is to be kept.
func (c *sinkCounter) keepNumber() int {
	if c.keepDir == "" {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept >= c.keep {
		return 0
	}
	c.kept++
	return c.kept
}

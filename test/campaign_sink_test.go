package test

import (
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// campaignSink is the receiving side of TestCampaignEndToEnd: an SMTP server (go-smtp) that
// answers chosen recipients 450 4.2.0 (tempfail) or 550 5.1.1 (refused) at RCPT and keeps every
// message it accepts, raw, with its envelope sender (the VERP address) and the time it took it.
type campaignSink struct {
	addr string

	mu       sync.Mutex
	tempfail map[string]bool
	refused  map[string]bool
	got      map[string]sinkMessage // the last copy per recipient
	copies   map[string]int
}

// sinkMessage is one message the sink accepted for one recipient.
type sinkMessage struct {
	from string // the envelope sender, MAIL FROM
	raw  []byte
	at   time.Time
}

// startCampaignSink starts a sink that answers the tempfail addresses 450 and the refused
// ones 550 (both lower-case, as the queue sends them) and accepts the rest.
func startCampaignSink(t *testing.T, tempfail, refused []string) *campaignSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &campaignSink{addr: l.Addr().String(), tempfail: map[string]bool{}, refused: map[string]bool{},
		got: map[string]sinkMessage{}, copies: map[string]int{}}
	for _, a := range tempfail {
		s.tempfail[a] = true
	}
	for _, a := range refused {
		s.refused[a] = true
	}
	srv := gosmtp.NewServer(s)
	srv.Domain = "mx.sink.example"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// accept makes the sink take the messages of addresses it answered 450 so far.
func (s *campaignSink) accept(addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range addrs {
		delete(s.tempfail, a)
	}
}

// message returns what the sink accepted for rcpt.
func (s *campaignSink) message(rcpt string) (sinkMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.got[rcpt]
	return m, ok
}

// counts returns the number of recipients the sink accepted a message for, and the number of
// copies beyond the first that they got.
func (s *campaignSink) counts() (accepted, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.copies {
		dups += n - 1
	}
	return len(s.got), dups
}

func (s *campaignSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &campaignSinkSession{s: s}, nil
}

type campaignSinkSession struct {
	s     *campaignSink
	from  string
	rcpts []string
}

func (c *campaignSinkSession) Reset()        { c.from, c.rcpts = "", nil }
func (c *campaignSinkSession) Logout() error { return nil }

func (c *campaignSinkSession) Mail(from string, _ *gosmtp.MailOptions) error {
	c.from = from
	return nil
}

func (c *campaignSinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	to = strings.ToLower(to)
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	switch {
	case c.s.tempfail[to]:
		return &gosmtp.SMTPError{Code: 450, EnhancedCode: gosmtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy, try later"}
	case c.s.refused[to]:
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	c.rcpts = append(c.rcpts, to)
	return nil
}

func (c *campaignSinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	now := time.Now()
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, to := range c.rcpts {
		c.s.got[to] = sinkMessage{from: c.from, raw: raw, at: now}
		c.s.copies[to]++
	}
	return nil
}

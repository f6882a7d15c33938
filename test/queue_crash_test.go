package test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"posthorn/internal/testutil/dnstest"
)

// Parameters of TestQueueCrash: messages submitted, destination domains, the sink's time per
// message (so that the queue is busy when the kill comes), and the share of the messages the
// sink must have before the kill.
const (
	queueCrashMessages = 1000
	queueCrashDomains  = 10
	queueCrashDelay    = 100 * time.Millisecond
	queueCrashKillAt   = queueCrashMessages / 4
)

// countingSink is an SMTP server that counts accepted copies per Message-ID, answering 250 only
// after counting (so a copy the sender saw acknowledged is always counted). It takes its time
// per message at RCPT, before the data: a copy it counts is one whose 250 was on its way.
type countingSink struct {
	addr  string
	delay time.Duration
	mu    sync.Mutex
	open  bool // until open, every recipient gets 451
	seen  map[string]int
	total int
}

func startCountingSink(t *testing.T, delay time.Duration) *countingSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &countingSink{addr: l.Addr().String(), delay: delay, seen: map[string]int{}}
	srv := gosmtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *countingSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &countingSession{s: s}, nil
}

func (s *countingSink) counts() (distinct, total int, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.seen {
		if n > 1 {
			dups += n - 1
		}
	}
	return len(s.seen), s.total, dups
}

type countingSession struct {
	s     *countingSink
	rcpts int
}

func (c *countingSession) Reset()                                 { c.rcpts = 0 }
func (c *countingSession) Logout() error                          { return nil }
func (c *countingSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (c *countingSession) Rcpt(string, *gosmtp.RcptOptions) error {
	c.s.mu.Lock()
	open := c.s.open
	c.s.mu.Unlock()
	if !open {
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "not yet"}
	}
	// The sink's slowness is here, before the message: a sender killed meanwhile leaves
	// nothing counted. (Slow after the data, it would count copies whose 250 nobody read.)
	time.Sleep(c.s.delay)
	c.rcpts++
	return nil
}
func (c *countingSession) Data(r io.Reader) error {
	h, err := textproto.NewReader(bufio.NewReader(r)).ReadMIMEHeader()
	if err != nil {
		return err
	}
	id := h.Get("Message-Id")
	c.s.mu.Lock()
	c.s.seen[id]++
	c.s.total++
	c.s.mu.Unlock()
	return nil
}

// TestQueueCrash submits 1,000 messages for 10 remote domains to a sink that defers them all
// (451) until every one is queued, then takes them at 100 ms each; it SIGKILLs the server while
// its queue is delivering them, restarts it, and checks that every message submitted (all
// got 250) reaches the sink. A message may arrive twice only if the kill fell between the sink's
// 250 and the server's record of it in the delivery journal; the number of such duplicates is
// reported, and bounded by one transaction per connection.
func TestQueueCrash(t *testing.T) {
	sink := startCountingSink(t, queueCrashDelay)
	zone := map[string][]string{"mx.sink.example.": {"mx.sink.example. 300 IN A 127.0.0.1"}}
	for i := range queueCrashDomains {
		d := fmt.Sprintf("d%d.example.", i)
		zone[d] = []string{d + " 300 IN MX 10 mx.sink.example."}
	}
	dns := dnstest.Start(t, zone)
	a := newSender(t, dns.Addr, portOf(t, sink.addr),
		"retry_min_seconds = 1\nretry_max_seconds = 2\n[limits]\nsend_per_hour = 0\nsend_per_day = 0\n")
	a.Start()

	// Submit everything over four authenticated connections (net/smtp, AUTH PLAIN on loopback).
	const conns = 4
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- submitRange(a.Submission, w, conns)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Everything is queued (and deferred once or more): now let the sink take it, slowly.
	sink.mu.Lock()
	sink.open = true
	sink.mu.Unlock()
	waitUntil(t, 60*time.Second, "deliveries under way", func() bool {
		distinct, _, _ := sink.counts()
		return distinct >= queueCrashKillAt
	})
	a.Kill()
	before, _, _ := sink.counts()
	if before >= queueCrashMessages {
		t.Fatalf("the queue was empty before the kill (%d delivered): nothing was tested", before)
	}

	a.Start()
	waitUntil(t, 90*time.Second, "every message at the sink", func() bool {
		distinct, _, _ := sink.counts()
		return distinct == queueCrashMessages
	})
	waitUntil(t, 10*time.Second, "an empty queue", func() bool {
		return strings.HasSuffix(a.MustCLI("", "queue", "list"), "0 queued\n")
	})
	distinct, total, dups := sink.counts()
	t.Logf("killed with %d of %d messages at the sink; after restart: %d distinct, %d copies, %d duplicates",
		before, queueCrashMessages, distinct, total, dups)
	// Each of the 100 connections has at most one transaction acknowledged by the sink and not
	// yet in the delivery journal: the one whose 250 it was reading when killed.
	if dups > 100 {
		t.Errorf("%d duplicates: more than the connections can have acknowledged and not journaled", dups)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if out := a.MustCLI("", "check"); !strings.Contains(out, "ok") {
		t.Errorf("check after the crash: %s", out)
	}
}

// submitRange submits messages w, w+step, w+2*step... of the crash load on one connection.
func submitRange(addr string, w, step int) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "alice@a.example", "alice password", "127.0.0.1")); err != nil {
		return err
	}
	for i := w; i < queueCrashMessages; i += step {
		rcpt := fmt.Sprintf("r%d@d%d.example", i, i%queueCrashDomains)
		if err := c.Mail("alice@a.example"); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		wc, err := c.Data()
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		fmt.Fprintf(wc, "From: alice@a.example\r\nTo: %s\r\nSubject: crash %d\r\nMessage-ID: <crash-%d@a.example>\r\n\r\nbody %d\r\n",
			rcpt, i, i, i)
		if err := wc.Close(); err != nil {
			return fmt.Errorf("message %d not accepted: %w", i, err)
		}
	}
	return c.Quit()
}

package smtpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/testutil/faultstore"
	"posthorn/internal/testutil/mailenv"
)

// newFaultHarness is newHarness over a store that fails on demand (faultstore): the server's
// store and its committer's are the faulty one; h.store, the harness's own view, never fails.
func newFaultHarness(t testing.TB, configure ...func(*Server)) (*harness, *faultstore.Store) {
	t.Helper()
	env := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fs := faultstore.New(env.Store)
	committer := delivery.New(fs, env.Blobs.Bodies(), env.Logger)
	t.Cleanup(committer.Close)
	faulty := func(s *Server) { s.Store, s.Committer = fs, committer }
	return newHarnessOn(t, env, append([]func(*Server){faulty}, configure...)...), fs
}

// TestMXWithoutDatabase: while the store does not answer, every command that needs it gets
// 451 4.3.0 (recipients, aliases, the bare postmaster, special recipients, the commit of DATA
// and BDAT), nothing is stored, and the same session delivers once the store is back.
func TestMXWithoutDatabase(t *testing.T) {
	special := &recordingSpecial{got: map[string][]string{}}
	h, fs := newFaultHarness(t, func(s *Server) { s.SpecialRecipients = special })
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")

	fs.Fail(true)
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	for _, rcpt := range []string{"alice@example.org", "team@example.org", "nobody@example.org",
		"x@catch.example", "Postmaster", "report+abc@example.org", "someone@elsewhere.example"} {
		c.cmd("RCPT TO:<"+rcpt+">", "451 4.3.0 ")
	}
	c.cmd("RSET", "250 ")

	// Recipients accepted, then the store goes away before the end of data.
	fs.Fail(false)
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<team@example.org>", "250 ")
	fs.Fail(true)
	c.cmd("DATA", "354 ")
	c.send("Subject: lost\r\n\r\nnot stored\r\n.")
	c.expect("451 4.3.0 ")

	fs.Fail(false)
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	fs.Fail(true)
	c.send("BDAT 26 LAST")
	c.send("Subject: lost\r\n\r\nchunked")
	c.expect("451 4.3.0 ")
	if got := h.bodies("alice@example.org"); len(got) != 0 {
		t.Fatalf("stored without the store: %q", got)
	}
	h.noBodies()
	if fs.Failed() == 0 {
		t.Fatal("the store was never asked")
	}

	// The same session, and a new one, work again.
	fs.Fail(false)
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<Postmaster>", "550 5.1.1 ") // no postmaster account: a definite answer
	c.cmd("DATA", "354 ")
	c.send("Subject: back\r\n\r\nstored\r\n.")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")
	if err := sendPlain(h.addr, "sender@remote.example", "bob@example.org", "Subject: new\r\n\r\nsession\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := h.bodies("alice@example.org"); len(got) != 1 || !strings.HasSuffix(got[0], "Subject: back\r\n\r\nstored\r\n") {
		t.Fatalf("alice has %q, want the message sent once the store was back", got)
	}
	if got := h.bodies("bob@example.org"); len(got) != 1 {
		t.Fatalf("bob has %d messages, want 1", len(got))
	}
}

// TestSubmissionWithoutDatabase: AUTH that cannot read the credentials gets 454 4.7.0 and is
// no failed login (the throttling adds no delay after many of them), MAIL FROM and RCPT get
// 451 4.3.0, DATA never 250; all of it works in the same session once the store is back.
func TestSubmissionWithoutDatabase(t *testing.T) {
	var fs *faultstore.Store
	faulty := func(t testing.TB, configure ...func(*Server)) *harness {
		h, f := newFaultHarness(t, configure...)
		fs = f
		return h
	}
	var mu sync.Mutex
	var delays []time.Duration
	h := newSubmissionHarnessOn(t, faulty, func(sub *Submission) {
		sub.Auth.SetSleep(func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			delays = append(delays, d)
			return nil
		})
	})
	c := h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	fs.Fail(true)
	for range 8 {
		c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "454 4.7.0 ")
	}
	fs.Fail(false)
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "235 ")
	mu.Lock()
	for _, d := range delays {
		if d > 0 {
			t.Errorf("a login waited %v: the failures of the store were counted", d)
		}
	}
	mu.Unlock()

	fs.Fail(true)
	c.cmd("MAIL FROM:<team@example.org>", "451 4.3.0 ") // an alias of alice's: to be looked up
	fs.Fail(false)
	c.cmd("MAIL FROM:<team@example.org>", "250 ")
	fs.Fail(true)
	c.cmd("RCPT TO:<bob@example.org>", "451 4.3.0 ")
	c.cmd("RCPT TO:<someone@elsewhere.example>", "451 4.3.0 ")
	fs.Fail(false)
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	fs.Fail(true)
	c.cmd("DATA", "354 ")
	c.send("From: alice@example.org\r\nSubject: lost\r\n\r\nnot stored\r\n.")
	c.expect("451 4.3.0 ")
	if got := h.bodies("bob@example.org"); len(got) != 0 {
		t.Fatalf("stored without the store: %q", got)
	}

	fs.Fail(false)
	c.cmd("MAIL FROM:<team@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("From: alice@example.org\r\nSubject: back\r\n\r\nstored\r\n.")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")
	if got := h.bodies("bob@example.org"); len(got) != 1 || !strings.Contains(got[0], "Subject: back\r\n") {
		t.Fatalf("bob has %q, want the message sent once the store was back", got)
	}
	h.login("bob@example.org").cmd("QUIT", "221 ")
}

// TestFlappingDatabaseNeverAcknowledgesLoss: many clients send at once over one session each
// while the store fails and recovers again and again. Every message that got 250 is stored,
// byte for byte; every other got a 4xx reply; none is stored that was not acknowledged (the
// fault stops calls before they reach the store, so a failed commit committed nothing).
func TestFlappingDatabaseNeverAcknowledgesLoss(t *testing.T) {
	h, fs := newFaultHarness(t, func(s *Server) { s.MaxConnections = 100 })
	const clients, each = 16, 12
	type outcome struct {
		msg  string
		code int // 250, or the 4xx reply that refused it
	}
	outcomes := make([][]outcome, clients)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial(h.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range each {
				// Each client flips the store for everyone as it goes.
				fs.Fail(rng.IntN(3) == 0)
				msg := fmt.Sprintf("Subject: client %d message %d\r\n\r\n%s\r\n", w, i, strings.Repeat(fmt.Sprintf("line %d.%d\r\n", w, i), 1+rng.IntN(50)))
				code, err := sendOn(c, msg)
				if err != nil {
					errs <- fmt.Errorf("client %d message %d: %w", w, i, err)
					return
				}
				outcomes[w] = append(outcomes[w], outcome{msg, code})
			}
			if err := c.Quit(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	fs.Fail(false)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, b := range h.bodies("alice@example.org") {
		stored[withoutReceived(t, b)]++
	}
	var acked, refused int
	for _, list := range outcomes {
		for _, o := range list {
			n := stored[o.msg]
			switch {
			case o.code == 250 && n != 1:
				t.Errorf("acknowledged, stored %d times: %q", n, o.msg[:30])
			case o.code != 250 && n != 0:
				t.Errorf("refused with %d, stored %d times: %q", o.code, n, o.msg[:30])
			}
			if o.code == 250 {
				acked++
			} else {
				refused++
			}
		}
	}
	t.Logf("%d messages acknowledged and stored, %d refused with 4xx, %d store calls failed", acked, refused, fs.Failed())
	if acked == 0 || refused == 0 {
		t.Fatalf("%d acknowledged, %d refused: want both", acked, refused)
	}
	h.bodyCount(acked)
	if problems, err := h.store.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("store check: %v %v", problems, err)
	}
}

// sendOn sends msg to alice on c and returns 250, or the 4xx code of the reply that refused it
// (the transaction is reset then); any other reply is an error.
func sendOn(c *smtp.Client, msg string) (int, error) {
	refused := func(err error) (int, error) {
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code/100 != 4 {
			return 0, err
		}
		return te.Code, c.Reset()
	}
	if err := c.Mail("sender@remote.example"); err != nil {
		return refused(err)
	}
	if err := c.Rcpt("alice@example.org"); err != nil {
		return refused(err)
	}
	w, err := c.Data()
	if err != nil {
		return refused(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return refused(err)
	}
	return 250, nil
}

// withoutReceived is a stored message without the Received header the server put on top.
func withoutReceived(t *testing.T, stored string) string {
	t.Helper()
	if !strings.HasPrefix(stored, "Received: ") {
		t.Fatalf("stored message without our Received header: %q", stored)
	}
	rest := stored[strings.Index(stored, "\r\n")+2:]
	for strings.HasPrefix(rest, "\t") {
		rest = rest[strings.Index(rest, "\r\n")+2:]
	}
	return rest
}

// noBodies fails the test unless the body store holds no body (a refused message leaves none;
// empty files are the store's pool of new files), waiting a while for removals under way.
func (h *harness) noBodies() {
	h.t.Helper()
	h.bodyCount(0)
}

// bodyCount fails the test unless the body store holds want bodies, waiting a while for
// removals under way.
func (h *harness) bodyCount(want int) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var ids []string
		if err := h.blobs.Walk(time.Time{}, func(id string, size int64) error {
			if size > 0 {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			h.t.Fatal(err)
		}
		if len(ids) == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d bodies, want %d: refused messages left theirs", len(ids), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

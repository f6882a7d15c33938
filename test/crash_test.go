package test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashSeed replays the kill moments and message sizes of an earlier run of TestCrashDuringDelivery.
var crashSeed = flag.Uint64("crash-seed", 0, "seed of TestCrashDuringDelivery (0: from the clock)")

// Crash test parameters: three kill cycles of a 16-connection load, each killed between 200 and
// 800 ms after the load started.
const (
	crashCycles       = 3
	crashWorkers      = 16
	crashMinKill      = 200 * time.Millisecond
	crashKillWindow   = 600 * time.Millisecond
	crashMaxPerWorker = 20000           // bound of one worker's loop, far above what a cycle sends
	crashMaxLoad      = 5 * time.Second // bound of one cycle's load, far above the kill moment
	crashIOTimeout    = 10 * time.Second
)

// crashAccounts receive the load; a quarter of the messages go to two of them at once.
var crashAccounts = []string{"u1@test.example", "u2@test.example", "u3@test.example", "u4@test.example"}

// outcome is what the client knows about one message when the server was killed.
type outcome int

const (
	// notEnded: the end of data (CRLF.CRLF) was never sent. The message must never be visible.
	notEnded outcome = iota
	// refused: the server answered the end of data with something other than 250. Not visible.
	refused
	// unacked: the end of data was sent (or its write attempted) and no reply came back before
	// the kill. The client cannot know: the message may be stored, but at most once.
	unacked
	// acked: 250 to the end of data. The message must be in every recipient's INBOX exactly once.
	acked
)

// crashMessage is one message of the load and what became of it.
type crashMessage struct {
	id      string // unique over the test: c<cycle>w<worker>m<n>
	cycle   int
	rcpts   []string
	size    int // approximate body size, in bytes
	outcome outcome
	stored  bool // seen in the mailboxes after a restart: from then on it must stay, once
}

// crashTally counts one cycle's messages after the restart.
type crashTally struct {
	acked, unackedStored, unackedAbsent, notEnded, refused, lost, duplicated, partial int
}

// TestCrashDuringDelivery kills the server with SIGKILL in the middle of a load of concurrent
// deliveries, three times, and checks invariant 1 of the design after every restart: each message
// that got 250 is in its recipients' INBOXes exactly once, complete; no message whose end of data
// was never sent, or that was refused, is visible; a message whose 250 was in flight at the kill
// is in all its recipients' INBOXes once or in none (one transaction). Then `posthorn check` must
// print ok: the server removed, at start, the bodies of deliveries that never committed.
//
// The client speaks the protocol itself over textproto, not net/smtp, to know exactly whether the
// end of data was sent: net/smtp's Data writer flushes the body and the final dot in one Close.
func TestCrashDuringDelivery(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay the kill moments with: go test ./test -run TestCrashDuringDelivery -crash-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	s := NewServer(t, "[log]\nlevel = \"warn\"\n")
	s.MustCLI("", "domain", "add", "test.example")
	for _, a := range crashAccounts {
		s.MustCLI("crash test password\n", "user", "add", a, "--password-stdin")
	}
	s.Start()

	var all []*crashMessage
	for cycle := 1; cycle <= crashCycles; cycle++ {
		kill := crashMinKill + time.Duration(rng.Int64N(int64(crashKillWindow)))
		msgs := crashLoad(t, s, cycle, seed, kill)
		all = append(all, msgs...)
		s.Start()
		tallies := verifyMailboxes(t, s, all)
		c := tallies[cycle]
		t.Logf("cycle %d, killed %v into the load: %d acknowledged, %d unacknowledged but stored, "+
			"%d unacknowledged and absent, %d never ended, %d refused; %d lost, %d duplicated, %d partial",
			cycle, kill, c.acked, c.unackedStored, c.unackedAbsent, c.notEnded, c.refused, c.lost, c.duplicated, c.partial)
		if c.acked == 0 {
			t.Errorf("cycle %d: no message was acknowledged before the kill: the test proved nothing", cycle)
		}
		if out := s.MustCLI("", "check"); out != "ok\n" {
			t.Errorf("cycle %d: posthorn check after the restart printed %q, want \"ok\\n\"", cycle, out)
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	// The server took mail after its last restart and stops cleanly.
	after := &crashMessage{id: "after-crash", rcpts: crashAccounts[:1], size: 1000}
	c := mustCrashClient(t, s.SMTP)
	if err := c.send(after); err != nil {
		t.Fatalf("delivery after the last restart: %v", err)
	}
	if after.outcome != acked {
		t.Fatalf("delivery after the last restart: outcome %d, want 250", after.outcome)
	}
	_ = c.close()
	verifyMailboxes(t, s, append(all, after))
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
}

// crashLoad runs crashWorkers connections that send messages back to back, kills the server
// after kill, and returns every message attempted with its outcome.
func crashLoad(t *testing.T, s *Server, cycle int, seed uint64, kill time.Duration) []*crashMessage {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		msgs    []*crashMessage
		bounded []string // workers that stopped on their bounds instead of the kill
	)
	deadline := time.Now().Add(crashMaxLoad)
	for w := range crashWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(cycle*1000+w)))
			var mine []*crashMessage
			defer func() {
				mu.Lock()
				msgs = append(msgs, mine...)
				mu.Unlock()
			}()
			c, err := newCrashClient(s.SMTP)
			if err != nil {
				t.Errorf("worker %d: %v", w, err)
				return
			}
			defer c.close()
			for n := range crashMaxPerWorker {
				if time.Now().After(deadline) {
					break
				}
				m := &crashMessage{
					id:    fmt.Sprintf("c%dw%02dm%05d", cycle, w, n),
					cycle: cycle,
					rcpts: []string{crashAccounts[rng.IntN(len(crashAccounts))]},
					// From one line to 64 KiB, so some kills land in the middle of a body.
					size: 100 + rng.IntN(64<<10),
				}
				if rng.IntN(4) == 0 {
					second := crashAccounts[rng.IntN(len(crashAccounts))]
					if second != m.rcpts[0] {
						m.rcpts = append(m.rcpts, second)
					}
				}
				mine = append(mine, m)
				var protoErr *textproto.Error
				if err := c.send(m); errors.As(err, &protoErr) {
					continue // refused (and reset): the connection carries on
				} else if err != nil {
					return // the connection died with the server
				}
			}
			mu.Lock()
			bounded = append(bounded, fmt.Sprint(w))
			mu.Unlock()
		})
	}
	time.Sleep(kill)
	s.Kill()
	wg.Wait()
	if len(bounded) > 0 {
		t.Fatalf("cycle %d: workers %s finished before the kill at %v: the load was too short", cycle, strings.Join(bounded, ","), kill)
	}
	return msgs
}

// verifyMailboxes reads every INBOX and checks each message of msgs against its outcome. It
// returns the tallies per cycle; msgs found stored are marked so that later checks require them.
func verifyMailboxes(t *testing.T, s *Server, msgs []*crashMessage) map[int]*crashTally {
	t.Helper()
	byID := map[string]*crashMessage{}
	for _, m := range msgs {
		byID[m.id] = m
	}
	// copies[id][account]: how many complete copies of the message the account's INBOX holds.
	copies := map[string]map[string]int{}
	partial := map[string]bool{}
	for _, account := range crashAccounts {
		for _, raw := range s.Inbox(account) {
			id, complete, err := parseCrashMessage(raw, byID)
			if err != nil {
				t.Errorf("INBOX of %s: %v", account, err)
				continue
			}
			if !complete {
				partial[id] = true
				t.Errorf("INBOX of %s: message %s is incomplete (a half-message is visible)", account, id)
			}
			if copies[id] == nil {
				copies[id] = map[string]int{}
			}
			copies[id][account]++
		}
	}

	tallies := map[int]*crashTally{}
	for _, m := range msgs {
		c := tallies[m.cycle]
		if c == nil {
			c = &crashTally{}
			tallies[m.cycle] = c
		}
		if partial[m.id] {
			c.partial++
		}
		present, duplicated := 0, false
		for _, r := range m.rcpts {
			n := copies[m.id][r]
			if n > 0 {
				present++
			}
			if n > 1 {
				duplicated = true
				t.Errorf("message %s (outcome %d) is %d times in the INBOX of %s", m.id, m.outcome, n, r)
			}
		}
		if duplicated {
			c.duplicated++
		}
		for account := range copies[m.id] {
			if !slices.Contains(m.rcpts, account) {
				t.Errorf("message %s for %v is in the INBOX of %s", m.id, m.rcpts, account)
			}
		}
		if present != 0 && present != len(m.rcpts) {
			t.Errorf("message %s is in %d of its %d recipients' INBOXes: a delivery was half committed", m.id, present, len(m.rcpts))
		}
		switch {
		case m.outcome == acked || m.stored:
			if m.outcome == acked {
				c.acked++
			} else {
				c.unackedStored++
			}
			if present != len(m.rcpts) {
				c.lost++
				what := "acknowledged"
				if m.outcome != acked {
					what = "seen after an earlier restart"
				}
				t.Errorf("message %s (%s) is missing from %d of its %d recipients' INBOXes", m.id, what, len(m.rcpts)-present, len(m.rcpts))
			}
		case m.outcome == unacked:
			if present > 0 {
				m.stored = true
				c.unackedStored++
			} else {
				c.unackedAbsent++
			}
		default:
			if m.outcome == refused {
				c.refused++
			} else {
				c.notEnded++
			}
			if present > 0 {
				t.Errorf("message %s is visible, but its end of data was never sent or it was refused (outcome %d)", m.id, m.outcome)
			}
		}
	}
	return tallies
}

// parseCrashMessage returns the id of a stored message and whether its body is exactly the one
// sent. A message the test did not send is an error.
func parseCrashMessage(raw string, byID map[string]*crashMessage) (string, bool, error) {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return "", false, fmt.Errorf("unparsable stored message (%d bytes): %w", len(raw), err)
	}
	msgID := msg.Header.Get("Message-ID")
	id, ok := strings.CutSuffix(strings.TrimPrefix(msgID, "<"), "@crash.test>")
	m := byID[id]
	if !ok || m == nil {
		return "", false, fmt.Errorf("a message the test did not send: Message-ID %q", msgID)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return "", false, err
	}
	return id, msg.Header.Get("Subject") == "crash "+id && bytes.Equal(body, crashBody(m)), nil
}

// crashBody is the body of m: lines that name the message (none starts with a dot, so nothing
// needs dot-stuffing) and a last line that a truncated copy lacks.
func crashBody(m *crashMessage) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < m.size; i++ {
		fmt.Fprintf(&b, "%s line %05d %s\r\n", m.id, i, strings.Repeat(string(rune('a'+i%26)), 50))
	}
	fmt.Fprintf(&b, "end of %s\r\n", m.id)
	return b.Bytes()
}

func crashHeader(m *crashMessage) string {
	return fmt.Sprintf("From: <load@sender.example>\r\nTo: %s\r\nSubject: crash %s\r\nMessage-ID: <%s@crash.test>\r\nDate: %s\r\n\r\n",
		strings.Join(m.rcpts, ", "), m.id, m.id, time.Now().Format(time.RFC1123Z))
}

// crashClient is an SMTP client (RFC 5321) that records how far each message got.
type crashClient struct {
	conn net.Conn
	tp   *textproto.Conn
}

func newCrashClient(addr string) (*crashClient, error) {
	conn, err := net.DialTimeout("tcp", addr, crashIOTimeout)
	if err != nil {
		return nil, err
	}
	c := &crashClient{conn: conn, tp: textproto.NewConn(conn)}
	if err := c.reply(220); err != nil {
		return nil, errors.Join(fmt.Errorf("greeting: %w", err), c.close())
	}
	if err := c.cmd(250, "EHLO crash.client.example"); err != nil {
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

func mustCrashClient(t *testing.T, addr string) *crashClient {
	t.Helper()
	c, err := newCrashClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *crashClient) reply(code int) error {
	if err := c.conn.SetDeadline(time.Now().Add(crashIOTimeout)); err != nil {
		return err
	}
	_, _, err := c.tp.ReadResponse(code)
	return err
}

func (c *crashClient) cmd(code int, format string, args ...any) error {
	if err := c.conn.SetDeadline(time.Now().Add(crashIOTimeout)); err != nil {
		return err
	}
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return fmt.Errorf("%s: %w", strings.Fields(format)[0], err)
	}
	if err := c.reply(code); err != nil {
		return fmt.Errorf("%s: %w", strings.Fields(format)[0], err)
	}
	return nil
}

// send runs one transaction and sets m.outcome. A refusal (*textproto.Error) is followed by
// RSET so the connection can carry on; any other error leaves the connection unusable.
func (c *crashClient) send(m *crashMessage) error {
	m.outcome = notEnded
	err := c.transaction(m)
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		if m.outcome == unacked {
			m.outcome = refused
		}
		if rerr := c.cmd(250, "RSET"); rerr != nil {
			return rerr
		}
	}
	return err
}

func (c *crashClient) transaction(m *crashMessage) error {
	if err := c.cmd(250, "MAIL FROM:<load@sender.example>"); err != nil {
		return err
	}
	for _, r := range m.rcpts {
		if err := c.cmd(250, "RCPT TO:<%s>", r); err != nil {
			return err
		}
	}
	if err := c.cmd(354, "DATA"); err != nil {
		return err
	}
	// The header and body are flushed first; only then is the end of data written, so a failure
	// before it proves the server never saw CRLF.CRLF.
	if _, err := c.tp.W.WriteString(crashHeader(m)); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := c.tp.W.Write(crashBody(m)); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := c.tp.W.Flush(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	m.outcome = unacked
	if _, err := c.tp.W.WriteString(".\r\n"); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	if err := c.tp.W.Flush(); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	if err := c.reply(250); err != nil {
		return fmt.Errorf("end of data: %w", err)
	}
	m.outcome = acked
	return nil
}

func (c *crashClient) close() error { return c.conn.Close() }

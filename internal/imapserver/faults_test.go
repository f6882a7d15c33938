package imapserver

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/bodystore"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/testutil/faultstore"
	"posthorn/internal/testutil/storeenv"
)

// faultHarness is the harness over a store that fails on demand (faultstore): the server's
// store, committer and authenticator use the faulty one; h.store and h.committer never fail.
type faultHarness struct {
	*harness
	fs     *faultstore.Store
	mu     sync.Mutex
	delays []time.Duration // the throttling's waits before a login
}

func newFaultHarness(t *testing.T) *faultHarness {
	t.Helper()
	fh := &faultHarness{}
	fh.harness = newHarness(t, func(s *Server) {
		fh.fs = faultstore.New(s.Store.(storeenv.Store))
		committer := delivery.New(fh.fs, s.Bodies.(bodystore.Store), s.Logger)
		t.Cleanup(committer.Close)
		s.Store, s.Committer = fh.fs, committer
		s.Auth = credentials.NewAuthenticator(fh.fs, s.Logger, prometheus.NewRegistry())
		s.Auth.SetSleep(func(_ context.Context, d time.Duration) error {
			fh.mu.Lock()
			defer fh.mu.Unlock()
			fh.delays = append(fh.delays, d)
			return nil
		})
	})
	return fh
}

// noDelays fails the test if a login waited: a failure was counted against it.
func (fh *faultHarness) noDelays() {
	fh.t.Helper()
	fh.mu.Lock()
	defer fh.mu.Unlock()
	for _, d := range fh.delays {
		if d > 0 {
			fh.t.Errorf("a login waited %v: failures of the store were counted as failed logins", d)
		}
	}
}

// tagged runs a command and checks that its tagged response starts with want.
func (c *conn) tagged(line, want string) []string {
	c.t.Helper()
	lines := c.run(line)
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, want) {
		c.t.Fatalf("%s: got %q, want %q", line, lines, want)
	}
	return lines
}

// TestCommandsWithoutDatabase: while the store does not answer, every command that needs it
// gets NO [UNAVAILABLE] (a login too, which is no failed login for the throttling), the
// session stays, nothing is appended, and the same session and a new one work once the store
// is back.
func TestCommandsWithoutDatabase(t *testing.T) {
	h := newFaultHarness(t)
	for i := 1; i <= 3; i++ {
		h.deliver(h.alice, "INBOX", testMessage(i))
	}
	c := h.login()
	c.tagged("s SELECT INBOX", "s OK [READ-WRITE]")

	h.fs.Fail(true)
	other := h.dial()
	for range 8 {
		other.tagged(`l LOGIN alice@example.org "`+testPassword+`"`, "l NO [UNAVAILABLE]")
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00" + testPassword))
	other.tagged("a AUTHENTICATE PLAIN "+ir, "a NO [UNAVAILABLE]")
	for _, cmd := range []string{
		"f1 FETCH 1:* (FLAGS)",
		"f2 FETCH 1 (BODY[] ENVELOPE)",
		"f3 UID FETCH 1:* (UID RFC822.SIZE)",
		`st STORE 1 +FLAGS (\Seen)`,
		"cp COPY 1 Trash",
		"mv MOVE 1 Trash",
		"x EXPUNGE",
		"se SEARCH SEEN",
		"se2 SEARCH BODY message",
		"stat STATUS Trash (MESSAGES UNSEEN)",
		`li LIST "" *`,
		"ap APPEND INBOX {12+}\r\nSubject: x\r\n",
		"cr CREATE NewBox",
		"ex EXAMINE Trash",
		"sel SELECT INBOX",
		"sub LSUB \"\" *",
		"gq GETQUOTAROOT INBOX",
	} {
		tag, _, _ := strings.Cut(cmd, " ")
		c.tagged(cmd, tag+" NO [UNAVAILABLE]")
	}
	c.tagged("n NOOP", "n OK") // needs no store: the session is still there

	// IDLE outlives a change it cannot read; DONE tells it once the store is back.
	h.fs.Fail(false)
	c.tagged("s SELECT INBOX", "s OK [READ-WRITE]")
	h.fs.Fail(true)
	c.cmd("i IDLE", "+ idling")
	failed := h.fs.Failed()
	h.deliver(h.alice, "INBOX", testMessage(4))
	for deadline := time.Now().Add(10 * time.Second); h.fs.Failed() == failed; {
		if time.Now().After(deadline) {
			t.Fatal("IDLE did not try to read the new message")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.fs.Fail(false)
	c.send("DONE")
	var lines []string
	for len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "i ") {
		lines = append(lines, c.readLine())
	}
	if !slices.Contains(lines, "* 4 EXISTS") || lines[len(lines)-1] != "i OK IDLE completed" {
		t.Fatalf("DONE: got %q, want * 4 EXISTS and the tagged OK", lines)
	}

	// Everything works again, in the same session and in a new one.
	c.tagged("f1 FETCH 1:* (FLAGS)", "f1 OK")
	c.tagged(`st STORE 1 +FLAGS (\Seen)`, "st OK")
	c.tagged("cp COPY 1 Trash", "cp OK")
	c.tagged("se SEARCH SEEN", "se OK")
	c.tagged("stat STATUS Trash (MESSAGES)", "stat OK")
	c.tagged(`li LIST "" *`, "li OK")
	c.tagged("ap APPEND INBOX {12+}\r\nSubject: x\r\n", "ap OK [APPENDUID")
	c.tagged(`d STORE 1 +FLAGS (\Deleted)`, "d OK")
	c.tagged("x EXPUNGE", "x OK")
	c.tagged("mv MOVE 1 Trash", "mv OK")
	other.tagged(`l LOGIN alice@example.org "`+testPassword+`"`, "l OK")
	h.login("bob@example.org").tagged("s SELECT INBOX", "s OK")
	h.noDelays()

	msgs, err := h.store.ListMessages(context.Background(), mailboxID(t, h.harness, "INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	// 3 delivered + 1 during IDLE + 1 appended once the store was back, 1 expunged, 1 moved:
	// the APPEND during the fault left nothing.
	if len(msgs) != 3 {
		t.Fatalf("INBOX holds %d messages, want 3", len(msgs))
	}
}

func mailboxID(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	mb, err := h.store.GetMailbox(context.Background(), h.alice.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	return mb.ID
}

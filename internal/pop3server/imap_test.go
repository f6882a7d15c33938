package pop3server

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"posthorn/internal/imapserver"
	"posthorn/internal/store"
)

// imapFor starts an IMAP server on the harness's store and returns a go-imap client logged in
// as alice with INBOX selected; expunged receives the sequence numbers of EXPUNGE responses.
func (h *harness) imapFor(t *testing.T, expunged chan<- uint32) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(h.startIMAP(t), &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Expunge: func(seq uint32) { expunged <- seq },
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// startIMAP starts an IMAP server on the harness's store and returns its address. What these
// tests check is what an IMAP session sees of POP3's deletions (EXPUNGE, VANISHED, \Seen), so
// they need the real IMAP server, not only its effect on the store.
func (h *harness) startIMAP(t *testing.T) string {
	t.Helper()
	srv := &imapserver.Server{
		Hostname: "imap.example.org", Store: h.Store, Bodies: h.Blobs.Bodies(), Committer: h.Committer,
		Auth: h.srv.Auth, Logger: h.Logger, TLSConfig: h.TLSConfig, AllowInsecureAuth: true,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().String()
}

// TestDeletionShowsInIMAP: messages deleted by POP3 are expunged at QUIT, and an IMAP session
// idling on INBOX gets EXPUNGE for each; a message retrieved and kept is \Seen for IMAP.
func TestDeletionShowsInIMAP(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 4; i++ {
		h.Deliver(h.Alice, "INBOX", testMessage(i))
	}
	expunged := make(chan uint32, 10)
	c := h.imapFor(t, expunged)
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}

	p := h.login()
	p.cmd("DELE 2", "+OK message 2 deleted")
	p.cmd("DELE 4", "+OK message 4 deleted")
	p.cmd("RETR 3", "+OK 216 octets", "...", "...", "...", "...", "...", "...", "", "...", "...", "...", ".")
	p.cmd("QUIT", "+OK pop.example.org posthorn POP3 signing off (2 messages left)")

	// EXPUNGE 2 then EXPUNGE 3 (the old 4), or 4 then 2: either order names the same messages.
	var got []uint32
	for len(got) < 2 {
		select {
		case seq := <-expunged:
			got = append(got, seq)
		case <-time.After(5 * time.Second):
			t.Fatalf("IMAP session saw EXPUNGE for %v only", got)
		}
	}
	if !slices.Equal(got, []uint32{2, 3}) && !slices.Equal(got, []uint32{4, 2}) {
		t.Errorf("EXPUNGE %v", got)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 3 {
		t.Fatalf("left in INBOX: %+v", msgs)
	}
	// The IMAP session (IMAP4rev1) selected INBOX first: the messages are \Recent there.
	if !slices.Equal(msgs[0].Flags, []imap.Flag{`\Recent`}) || !slices.Equal(msgs[1].Flags, []imap.Flag{`\Recent`, imap.FlagSeen}) {
		t.Errorf("flags: UID 1 %v, UID 3 %v; want \\Recent and \\Recent \\Seen", msgs[0].Flags, msgs[1].Flags)
	}
}

// TestExpungeDuringSession: the other way round. A message expunged by another session while
// a POP3 session has it keeps its number there; RETR gets -ERR, DELE and QUIT still work; the
// next session does not list it. The expunge is made as an IMAP session makes it (STORE
// +FLAGS \Deleted, EXPUNGE, then the bodies left without reference removed), on the store.
func TestExpungeDuringSession(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 3; i++ {
		h.Deliver(h.Alice, "INBOX", testMessage(i))
	}
	p := h.login()
	p.cmd("STAT", "+OK 3 648")
	h.expungeAsIMAP(t, 1)
	p.cmd("LIST 1", "+OK 1 216")
	p.cmd("RETR 1", "-ERR message was removed by another session")
	p.cmd("RETR 2", "+OK 216 octets", "From: Sender 2 <sender2@example.net>", "...", "...", "...", "...", "...", "", "...", "...", "...", ".")
	p.cmd("DELE 1", "+OK message 1 deleted")
	p.cmd("QUIT", "+OK pop.example.org posthorn POP3 signing off (2 messages left)")
	p = h.loginWhenFree()
	p.cmd("UIDL", "+OK unique-id listing follows", "1 ...00000002", "2 ...00000003", ".")
	p.cmd("QUIT", "+OK ...")
}

// expungeAsIMAP removes the message uid from alice's INBOX as IMAP's STORE +FLAGS \Deleted and
// EXPUNGE do (RFC 9051 §6.4.3).
func (h *harness) expungeAsIMAP(t *testing.T, uid uint32) {
	t.Helper()
	ctx := context.Background()
	mb, err := h.Store.GetMailbox(ctx, h.Alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Store.UpdateFlags(ctx, mb.ID, []uint32{uid}, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	gone, unreferenced, err := h.Store.Expunge(ctx, mb.ID, []uint32{uid})
	if err != nil || len(gone) != 1 {
		t.Fatalf("expunged %v, %v", gone, err)
	}
	for _, id := range unreferenced {
		if err := h.Blobs.Bodies().Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeletionShowsAsVanished: an IMAP session that enabled QRESYNC (RFC 7162 §3.2.10) learns
// of POP3 deletions as VANISHED, in IDLE; raw lines, as go-imap's client has no QRESYNC.
func TestDeletionShowsAsVanished(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 3; i++ {
		h.Deliver(h.Alice, "INBOX", testMessage(i))
	}
	nc, err := net.Dial("tcp", h.startIMAP(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &conn{t: t, c: nc, r: bufio.NewReader(nc)}
	c.expect("* OK ...")
	c.cmd(`a LOGIN alice@example.org "`+testPassword+`"`, "a OK ...")
	c.cmd("b ENABLE QRESYNC", "* ENABLED QRESYNC", "b OK ...")
	c.send("c SELECT INBOX\r\n")
	for !strings.HasPrefix(c.readLine(), "c OK") {
	}
	c.cmd("d IDLE", "+ idling")

	p := h.login()
	p.cmd("DELE 1", "+OK message 1 deleted")
	p.cmd("DELE 3", "+OK message 3 deleted")
	p.cmd("QUIT", "+OK ...")
	// The \Deleted flags may be announced first, depending on when the session looks.
	for {
		line := c.readLine()
		if strings.HasPrefix(line, "* VANISHED ") {
			if line != "* VANISHED 1,3" {
				t.Fatalf("got %q, want * VANISHED 1,3", line)
			}
			break
		}
		if !strings.Contains(line, `FETCH (UID`) {
			t.Fatalf("unexpected %q", line)
		}
	}
	c.cmd("DONE", "d OK ...")
}

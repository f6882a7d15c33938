package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestLoginNeedsTLS: without AllowInsecureAuth, LOGIN and AUTHENTICATE are refused in clear and
// LOGINDISABLED is advertised; after STARTTLS they work (RFC 9051 §6.2.1, §6.2.3).
func TestLoginNeedsTLS(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AllowInsecureAuth = false })
	c := h.dial()
	c.cmd("a1 CAPABILITY", "* CAPABILITY ... STARTTLS LOGINDISABLED", "a1 OK CAPABILITY completed")
	c.cmd("a2 LOGIN alice@example.org x", "a2 NO [PRIVACYREQUIRED] LOGIN is disabled until STARTTLS")
	c.cmd("a3 AUTHENTICATE PLAIN", "a3 NO [PRIVACYREQUIRED] AUTHENTICATE PLAIN is disabled until STARTTLS")
	// Whatever follows STARTTLS in the same packet is dropped, not executed after the handshake.
	c.sendRaw("a4 STARTTLS\r\na5 NOOP\r\n")
	c.expect("a4 OK begin TLS negotiation now")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
	c.cmd("a6 CAPABILITY", "* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ SASL-IR ENABLE ID IDLE AUTH=PLAIN AUTH=SCRAM-SHA-256", "a6 OK CAPABILITY completed")
	c.cmd("a7 STARTTLS", "a7 BAD STARTTLS not available")
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00" + testPassword))
	c.cmd("a8 AUTHENTICATE PLAIN "+ir, "a8 OK [CAPABILITY ...] logged in")
}

func TestImplicitTLSAndAuthenticate(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AllowInsecureAuth = false })
	c := h.dialTLS()
	c.cmd("a1 AUTHENTICATE PLAIN", "+ ")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00wrong")), "a1 NO [AUTHENTICATIONFAILED] invalid credentials")
	c.cmd("a2 AUTHENTICATE PLAIN", "+ ")
	c.cmd("*", "a2 BAD authentication cancelled")
	c.cmd("a3 AUTHENTICATE PLAIN "+base64.StdEncoding.EncodeToString([]byte("bob@example.org\x00alice@example.org\x00"+testPassword)),
		"a3 NO [AUTHORIZATIONFAILED] cannot act as another user")
	c.cmd("a4 AUTHENTICATE CRAM-MD5", "a4 NO [CANNOT] unsupported authentication mechanism")
	c.cmd("a5 AUTHENTICATE PLAIN", "+ ")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00"+testPassword)), "a5 OK [CAPABILITY ...] logged in")
	c.cmd("a6 SELECT INBOX", "* FLAGS ...", "* 0 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY ...] ...",
		"* OK [UIDNEXT 1] ...", "* OK [PERMANENTFLAGS ...] ...", "a6 OK [READ-WRITE] SELECT completed")
}

// TestIdleWakesOnDelivery: a message committed as SMTP commits it reaches an IDLE session
// within a second, and DONE ends the IDLE.
func TestIdleWakesOnDelivery(t *testing.T) {
	h := newHarness(t)
	c := h.login()
	c.cmd("a1 SELECT INBOX", "* FLAGS ...", "* 0 EXISTS", "* 0 RECENT", "* OK [UIDVALIDITY ...] ...",
		"* OK [UIDNEXT 1] ...", "* OK [PERMANENTFLAGS ...] ...", "a1 OK [READ-WRITE] SELECT completed")
	c.cmd("a2 IDLE", "+ idling")
	for i := 1; i <= 3; i++ {
		start := time.Now()
		h.deliver(h.alice, "INBOX", testMessage(i))
		_ = c.c.SetReadDeadline(time.Now().Add(time.Second))
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("delivery %d not announced within a second: %v", i, err)
		}
		if want := "* " + string(rune('0'+i)) + " EXISTS\r\n"; line != want {
			t.Fatalf("got %q, want %q", line, want)
		}
		// RFC 3501 §7.3.2: an IMAP4rev1 session that has the mailbox selected sees the new
		// messages as recent.
		c.expect(fmt.Sprintf("* %d RECENT", i))
		t.Logf("delivery %d announced after %v", i, time.Since(start))
	}
	// A flag change by another session, too.
	other := h.login()
	other.cmd("b1 SELECT INBOX", "* FLAGS ...", "* 3 EXISTS", "* 0 RECENT", "* OK [UNSEEN 1] ...", "* OK [UIDVALIDITY ...] ...",
		"* OK [UIDNEXT 4] ...", "* OK [PERMANENTFLAGS ...] ...", "b1 OK [READ-WRITE] SELECT completed")
	other.cmd("b2 STORE 2 +FLAGS.SILENT (\\Answered)", "b2 OK STORE completed")
	c.expect(`* 2 FETCH (UID 2 FLAGS (\Recent \Answered))`)
	other.cmd("b3 STORE 1 +FLAGS.SILENT (\\Deleted)", "b3 OK STORE completed")
	c.expect(`* 1 FETCH (UID 1 FLAGS (\Recent \Deleted))`)
	other.cmd("b4 EXPUNGE", "* 1 EXPUNGE", "b4 OK EXPUNGE completed")
	c.expect(`* 1 EXPUNGE`)
	c.cmd("DONE", "a2 OK IDLE completed")
	c.cmd("a3 FETCH 1:* UID", "* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)", "a3 OK FETCH completed")
}

// TestShutdownSaysBye: Shutdown sends "* BYE" to a session waiting for a command and to one in
// IDLE, and returns once they are gone.
func TestShutdownSaysBye(t *testing.T) {
	h := newHarness(t)
	waiting := h.login()
	idling := h.login()
	idling.cmd("a1 IDLE", "+ idling")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waiting.expect("* BYE server shutting down")
	idling.expect("* BYE server shutting down")
	if _, err := net.Dial("tcp", h.addr); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestMaxConnections(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxConnections = 1 })
	h.dial()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "* BYE [UNAVAILABLE]") {
		t.Fatalf("got %q, %v", line, err)
	}
}

// TestQresync: after ENABLE QRESYNC, expunges are announced with VANISHED; SELECT with the
// QRESYNC parameter reports what changed and vanished since a MODSEQ, and UID FETCH's VANISHED
// modifier does the same for a set (RFC 7162 §3.2).
func TestQresync(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 5; i++ {
		h.deliver(h.alice, "INBOX", testMessage(i))
	}
	c := h.login()
	c.cmd("a0 SELECT INBOX (QRESYNC (1 1))", "a0 BAD QRESYNC is not enabled")
	c.cmd("a1 ENABLE QRESYNC", "* ENABLED QRESYNC", "a1 OK ENABLE completed")
	c.send("a2 SELECT INBOX")
	c.expect("* FLAGS ...")
	c.expect("* 5 EXISTS")
	c.expect("* 5 RECENT")
	c.expect("* OK [UNSEEN 1] first unseen message")
	var validity uint32
	var modseq uint64
	fmt.Sscanf(c.expect("* OK [UIDVALIDITY ...] UIDs valid"), "* OK [UIDVALIDITY %d]", &validity)
	c.expect("* OK [UIDNEXT 6] ...")
	c.expect("* OK [PERMANENTFLAGS ...] ...")
	fmt.Sscanf(c.expect("* OK [HIGHESTMODSEQ ...] ..."), "* OK [HIGHESTMODSEQ %d]", &modseq)
	c.expect("a2 OK [READ-WRITE] SELECT completed")

	c.cmd(`a3 STORE 2,3 +FLAGS.SILENT (\Deleted)`, "* 2 FETCH (UID 2 MODSEQ (...))", "* 3 FETCH (UID 3 MODSEQ (...))", "a3 OK STORE completed")
	c.cmd(`a4 UID EXPUNGE 3`, "* VANISHED 3", "a4 OK UID EXPUNGE completed")
	c.cmd(`a5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE `+fmt.Sprint(modseq)+` VANISHED)`,
		"* VANISHED (EARLIER) 3", `* 2 FETCH (UID 2 FLAGS (\Recent \Deleted) MODSEQ (...))`, "a5 OK UID FETCH completed")
	c.cmd("a6 UID FETCH 1:* (FLAGS) (VANISHED)", "a6 BAD VANISHED needs QRESYNC, UID FETCH and CHANGEDSINCE")

	c.cmd(fmt.Sprintf("a7 SELECT INBOX (QRESYNC (%d %d 1:4))", validity, modseq),
		"* OK [CLOSED] previous mailbox closed", "* FLAGS ...", "* 4 EXISTS", "* 0 RECENT",
		"* OK [UNSEEN 1] ...", "* OK [UIDVALIDITY ...] ...", "* OK [UIDNEXT 6] ...", "* OK [PERMANENTFLAGS ...] ...", "* OK [HIGHESTMODSEQ ...] ...",
		"* VANISHED (EARLIER) 3", `* 2 FETCH (UID 2 FLAGS (\Deleted) MODSEQ (...))`, "a7 OK [READ-WRITE] SELECT completed")
	// A stale UIDVALIDITY gets the plain SELECT answer.
	c.cmd(fmt.Sprintf("a8 EXAMINE INBOX (QRESYNC (%d %d))", validity+1, modseq),
		"* OK [CLOSED] previous mailbox closed", "* FLAGS ...", "* 4 EXISTS", "* 0 RECENT",
		"* OK [UNSEEN 1] ...", "* OK [UIDVALIDITY ...] ...", "* OK [UIDNEXT 6] ...", "* OK [PERMANENTFLAGS ()] ...", "* OK [HIGHESTMODSEQ ...] ...",
		"a8 OK [READ-ONLY] EXAMINE completed")
}

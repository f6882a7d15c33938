package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
	"posthorn/internal/testutil/scramtest"
	"posthorn/internal/testutil/storeenv"
)

// submissionHarness is the MX harness turned into a submission server: alice and bob have the
// passwords "alice password" and "bob password" (with SCRAM keys), example.org has DKIM keys.
type submissionHarness struct {
	*harness
	sub  *Submission
	keys []store.DKIMKey
}

func newSubmissionHarness(t testing.TB, configure ...func(*Submission)) *submissionHarness {
	t.Helper()
	return newSubmissionHarnessOn(t, newHarness, configure...)
}

// newSubmissionHarnessOn is newSubmissionHarness over the MX harness that start makes.
func newSubmissionHarnessOn(t testing.TB, start func(testing.TB, ...func(*Server)) *harness,
	configure ...func(*Submission)) *submissionHarness {
	t.Helper()
	sh := &submissionHarness{}
	sh.harness = start(t, func(s *Server) {
		st := s.Store.(storeenv.Store)
		ctx := context.Background()
		for _, a := range []string{"alice", "bob"} {
			if err := credentials.SetPassword(ctx, st, a+"@example.org", a+" password"); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := mailauth.EnsureDKIMKeys(ctx, st, "example.org", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sh.keys = keys
		a := credentials.NewAuthenticator(st, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
		a.SetSleep(func(context.Context, time.Duration) error { return nil })
		sh.sub = &Submission{Auth: a, Store: st, AllowInsecureAuth: true}
		for _, f := range configure {
			f(sh.sub)
		}
		s.Submission = sh.sub
		s.Hostname = "mail.example.org"
	})
	return sh
}

func plainIR(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// login dials and authenticates with AUTH PLAIN.
func (h *submissionHarness) login(user string) *conn {
	c := h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	c.cmd("AUTH PLAIN "+plainIR(user, strings.TrimSuffix(user, "@example.org")+" password"), "235 ")
	return c
}

func (c *conn) starttls() {
	c.t.Helper()
	c.cmd("STARTTLS", "220 ")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

func TestSubmissionAuthRequiresTLS(t *testing.T) {
	h := newSubmissionHarness(t, func(s *Submission) { s.AllowInsecureAuth = false })
	c := h.dial()
	if ehlo := strings.Join(c.cmd("EHLO laptop.example", "250 "), "\n"); strings.Contains(ehlo, "AUTH") {
		t.Fatalf("AUTH advertised before TLS:\n%s", ehlo)
	}
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "530 5.7.0 ")
	c.cmd("MAIL FROM:<alice@example.org>", "530 5.7.0 Authentication required")
	c.cmd("RCPT TO:<bob@example.org>", "502 ") // go-smtp: no MAIL yet
	c.starttls()
	ehlo := strings.Join(c.cmd("EHLO laptop.example", "250 "), "\n")
	if !strings.Contains(ehlo, "250-AUTH SCRAM-SHA-256 PLAIN LOGIN") || !strings.Contains(ehlo, "REQUIRETLS") {
		t.Fatalf("EHLO after STARTTLS:\n%s", ehlo)
	}
	c.cmd("MAIL FROM:<alice@example.org>", "530 5.7.0 ")
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "235 ")
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
}

func TestSubmissionAuthMechanisms(t *testing.T) {
	h := newSubmissionHarness(t)
	// PLAIN without an initial response, LOGIN step by step, wrong passwords.
	c := h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	c.cmd("AUTH PLAIN", "334 ")
	c.cmd(plainIR("alice@example.org", "wrong"), "535 5.7.8 ")
	c.cmd("AUTH LOGIN", "334 "+b64("Username:"))
	c.cmd(b64("alice@example.org"), "334 "+b64("Password:"))
	c.cmd(b64("alice password"), "235 ")
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "503 ")

	c = h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	c.cmd("AUTH LOGIN "+b64("bob@example.org"), "334 "+b64("Password:"))
	c.cmd(b64("alice password"), "535 5.7.8 ")
	c.cmd("AUTH CRAM-MD5", "504 5.5.4 ")
	c.cmd("AUTH PLAIN "+plainIR("nobody@example.org", "x"), "535 5.7.8 ")
	c.cmd("AUTH PLAIN "+b64("alice@example.org\x00bob@example.org\x00bob password"), "535 5.7.8 ")
	c.cmd("AUTH SCRAM-SHA-256 "+b64("p=tls-server-end-point,,n=bob@example.org,r=abcdef"), "535 5.7.8 ")
	c.cmd("AUTH SCRAM-SHA-256 "+b64("n,,bad"), "501 5.5.2 ")
	c.cmd("AUTH PLAIN "+b64("no separators"), "501 5.5.2 ")
	c.cmd("AUTH PLAIN =", "501 5.5.2 ") // an empty initial response is not a PLAIN message

	// SCRAM-SHA-256 through go-smtp's client with a client written from RFC 5802.
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{{"bob@example.org", "bob password", true}, {"bob@example.org", "alice password", false}, {"eve@example.org", "x", false}} {
		cl, err := gosmtp.Dial(h.addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Hello("laptop.example"); err != nil {
			t.Fatal(err)
		}
		sc := &scramtest.Client{Username: tc.user, Password: tc.pass}
		err = cl.Auth(sc)
		var se *gosmtp.SMTPError
		switch {
		case tc.ok && (err != nil || !sc.Verified):
			t.Errorf("SCRAM %s: %v (server signature verified: %v)", tc.user, err, sc.Verified)
		case !tc.ok && !(errors.As(err, &se) && se.Code == 535):
			t.Errorf("SCRAM %s with a wrong password: %v, want 535", tc.user, err)
		}
		if tc.ok {
			if err := cl.Mail("bob@example.org", nil); err != nil {
				t.Errorf("MAIL after SCRAM: %v", err)
			}
		}
		cl.Close()
	}
}

// After credentials.HardLimit failures the shared throttling refuses even the right password (454).
func TestSubmissionAuthThrottled(t *testing.T) {
	h := newSubmissionHarness(t)
	c := h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	for range credentials.HardLimit {
		c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "guess"), "535 5.7.8 ")
	}
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "454 4.7.0 ")
}

func TestSubmissionSenders(t *testing.T) {
	h := newSubmissionHarness(t)
	ctx := context.Background()
	st := h.store
	bob, _ := st.GetAccount(ctx, "bob@example.org")
	if err := st.AddSendAs(ctx, bob.ID, "@partner.example"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSendAs(ctx, bob.ID, "boss@example.net"); err != nil {
		t.Fatal(err)
	}
	c := h.login("bob@example.org")
	for _, tc := range []struct{ from, reply string }{
		{"<bob@example.org>", "250 "},
		{"<Bob+lists@Example.org>", "250 "},
		{"<team@example.org>", "250 "}, // alias to alice and bob
		{"<anyone@partner.example>", "250 "},
		{"<boss@example.net>", "250 "},
		{"<>", "550 5.7.1 "},
		{"<alice@example.org>", "550 5.7.1 "},
		{"<anything@catch.example>", "550 5.7.1 "}, // bob is the catch-all's target: not enough
		{"<other@example.net>", "550 5.7.1 "},
	} {
		c.cmd("MAIL FROM:"+tc.from, tc.reply)
		c.cmd("RSET", "250 ")
	}
	// The From header must be owned too, every address of it.
	for _, tc := range []struct{ from, reply string }{
		{"From: Bob <bob@example.org>", "250 "},
		{"From: =?x-unknown?q?B=F6b?= <bob@partner.example>", "250 "},
		{"From: bob@example.org, alice@example.org", "550 5.7.1 "},
		{"From: Alice <alice@example.org>", "550 5.7.1 "},
		{"Subject: no From", "550 5.6.0 "},
	} {
		c.cmd("MAIL FROM:<bob@example.org>", "250 ")
		c.cmd("RCPT TO:<alice@example.org>", "250 ")
		c.cmd("DATA", "354 ")
		c.send(tc.from + "\r\nSubject: x\r\n\r\nbody\r\n.")
		c.expect(tc.reply)
	}
	if got := len(h.bodies("alice@example.org")); got != 2 {
		t.Fatalf("alice received %d messages, want 2", got)
	}
}

func TestSubmissionLimits(t *testing.T) {
	h := newSubmissionHarness(t, func(s *Submission) { s.PerHour, s.PerDay = 3, 100 })
	c := h.login("alice@example.org")
	send := func(rcpts []string, replies []string) {
		t.Helper()
		c.cmd("MAIL FROM:<alice@example.org>", "250 ")
		for i, r := range rcpts {
			c.cmd("RCPT TO:<"+r+">", replies[i])
		}
		c.cmd("DATA", "354 ")
		c.send("From: alice@example.org\r\n\r\nhi\r\n.")
		c.expect("250 ")
	}
	send([]string{"bob@example.org", "team@example.org"}, []string{"250 ", "250 "})
	send([]string{"bob@example.org", "alice@example.org"}, []string{"250 ", "451 4.7.1 "})
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "451 4.7.1 ")
	// A per-account limit overrides the default; 0 is none.
	st := h.store
	alice, _ := st.GetAccount(context.Background(), "alice@example.org")
	if err := st.SetSendLimits(context.Background(), alice.ID, store.SendLimits{PerHour: 0, PerDay: store.LimitDefault}); err != nil {
		t.Fatal(err)
	}
	c.cmd("RSET", "250 ") // limits are read once per transaction
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	// The day's limit holds without the hour's: 3 sent, 1 accepted, 1 more is 5 > 4.
	if err := st.SetSendLimits(context.Background(), alice.ID, store.SendLimits{PerHour: 0, PerDay: 4}); err != nil {
		t.Fatal(err)
	}
	c.cmd("RSET", "250 ")
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "451 4.7.1 ")
}

// A submitted message: Message-ID and Date added, signed with both keys (go-msgauth verifies
// them here; dkimpy does in the end-to-end test), delivered to local INBOXes and queued once
// per remote recipient with the DSN and REQUIRETLS parameters, in one transaction.
func TestSubmissionDeliversSignsAndQueues(t *testing.T) {
	var sentBy int64
	var sentTo []string
	h := newSubmissionHarness(t, func(sub *Submission) {
		sub.Sent = func(accountID int64, recipients []string) { sentBy, sentTo = accountID, recipients }
	})
	c := h.dial()
	c.cmd("EHLO laptop.example", "250 ")
	c.starttls()
	c.cmd("EHLO laptop.example", "250 ")
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "235 ")
	c.cmd("MAIL FROM:<alice@example.org> RET=HDRS ENVID=abc REQUIRETLS", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("RCPT TO:<carol@remote.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;carol@remote.example", "250 ")
	c.cmd("RCPT TO:<dave@other.example>", "250 ")
	c.cmd("RCPT TO:<nobody@example.org>", "550 5.1.1 ")
	c.cmd("DATA", "354 ")
	c.send("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: hello\r\n\r\nbody\r\n.")
	c.expect("250 ")

	got := h.bodies("bob@example.org")
	if len(got) != 1 {
		t.Fatalf("bob has %d messages", len(got))
	}
	alice, _ := h.store.GetAccount(context.Background(), "alice@example.org")
	if want := []string{"bob@example.org", "carol@remote.example", "dave@other.example"}; sentBy != alice.ID ||
		!slices.Equal(sentTo, want) {
		t.Errorf("Sent hook: account %d, %v; want %d, %v", sentBy, sentTo, alice.ID, want)
	}
	msg := got[0]
	for _, want := range []string{"Received: from laptop.example\r\n\tby mail.example.org (posthorn) with ESMTPSA id ",
		"\r\nMessage-ID: <", "@mail.example.org>\r\n", "\r\nDate: ", "a=rsa-sha256", "a=ed25519-sha256"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "127.0.0.1") {
		t.Errorf("message names the client address:\n%s", msg)
	}
	if len(h.bodies("alice@example.org")) != 0 {
		t.Errorf("the sender got a copy")
	}
	records := map[string]string{}
	for _, k := range h.keys {
		name, value, _ := mailauth.DKIMRecord(k)
		records[name] = value
	}
	verifs, err := dkim.VerifyWithOptions(strings.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) { return []string{records[domain]}, nil },
	})
	if err != nil || len(verifs) != 2 {
		t.Fatalf("verify: %v, %d signatures", err, len(verifs))
	}
	for _, v := range verifs {
		if v.Err != nil || v.Domain != "example.org" {
			t.Errorf("signature %+v", v)
		}
	}

	queue, err := h.store.(store.QueueStore).ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 2 {
		t.Fatalf("queue has %d rows, want 2: %+v", len(queue), queue)
	}
	carol := queue[0]
	if carol.Recipient != "carol@remote.example" {
		carol = queue[1]
	}
	if queue[0].BlobID != queue[1].BlobID || carol.Recipient != "carol@remote.example" || carol.Sender != "alice@example.org" ||
		carol.Ret != "HDRS" || carol.EnvID != "abc" || carol.Notify != "FAILURE,DELAY" ||
		!strings.EqualFold(carol.ORcpt, "rfc822;carol@remote.example") || !carol.RequireTLS {
		t.Errorf("queued row %+v", carol)
	}
}

// A message without the empty line after its header is stored (and signed) with one.
func TestSubmissionAddsHeaderSeparator(t *testing.T) {
	h := newSubmissionHarness(t)
	c := h.login("alice@example.org")
	for _, body := range []string{"From: alice@example.org\r\nSubject: x\r\nthis starts the body", "From: alice@example.org"} {
		c.cmd("MAIL FROM:<alice@example.org>", "250 ")
		c.cmd("RCPT TO:<bob@example.org>", "250 ")
		c.cmd("DATA", "354 ")
		c.send(body + "\r\n.")
		c.expect("250 ")
	}
	got := h.bodies("bob@example.org")
	if len(got) != 2 || !strings.HasSuffix(got[0], "\r\nSubject: x\r\n\r\nthis starts the body\r\n") ||
		!strings.HasSuffix(got[1], "\r\nFrom: alice@example.org\r\n\r\n") {
		t.Fatalf("stored:\n%q", got)
	}
	records := map[string]string{}
	for _, k := range h.keys {
		name, value, _ := mailauth.DKIMRecord(k)
		records[name] = value
	}
	for _, msg := range got {
		verifs, err := dkim.VerifyWithOptions(strings.NewReader(msg), &dkim.VerifyOptions{
			LookupTXT: func(domain string) ([]string, error) { return []string{records[domain]}, nil },
		})
		if err != nil || len(verifs) != 2 || verifs[0].Err != nil || verifs[1].Err != nil {
			t.Fatalf("verify %q: %v %+v", msg, err, verifs)
		}
	}
}

package smtpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/campaign"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// recordingSpecial claims the local parts starting with "report" and records what it is given;
// fail makes Deliver fail.
type recordingSpecial struct {
	mu   sync.Mutex
	got  map[string][]string
	fail bool
}

func (r *recordingSpecial) Claims(a address.Address) bool {
	return strings.HasPrefix(a.Local, "report")
}

func (r *recordingSpecial) Deliver(_ context.Context, a address.Address, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("store unavailable")
	}
	r.got[a.String()] = append(r.got[a.String()], string(b))
	return nil
}

func (r *recordingSpecial) messages(rcpt string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[rcpt]
}

// TestSpecialRecipients: a claimed address on a local domain is accepted from the null sender
// and its message goes to Deliver, not to a mailbox; ordinary recipients of the same
// transaction get theirs; a claimed address named twice gets one copy; one of a foreign domain is still refused as a relay;
// a failing Deliver is a temporary failure of the message.
func TestSpecialRecipients(t *testing.T) {
	special := &recordingSpecial{got: map[string][]string{}}
	h := newHarness(t, func(s *Server) { s.SpecialRecipients = special })
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<report@elsewhere.example>", "554 5.7.1 ")
	c.cmd("RCPT TO:<report+abc@example.org>", "250 ")
	c.cmd("RCPT TO:<Report+ABC@example.org>", "250 ") // the same, once
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: a report\r\n\r\nreport body\r\n.")
	c.expect("250 ")
	got := special.messages("report+abc@example.org")
	if len(got) != 1 || !strings.HasPrefix(got[0], "Received: from client.example") ||
		!strings.HasSuffix(got[0], "Subject: a report\r\n\r\nreport body\r\n") {
		t.Fatalf("Deliver got %q", got)
	}
	if inbox := h.bodies("alice@example.org"); len(inbox) != 1 || !strings.Contains(inbox[0], "report body") {
		t.Fatalf("alice's INBOX %q", inbox)
	}
	// Only the special recipient: no mailbox gets anything.
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<report@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: second\r\n\r\nx\r\n.")
	c.expect("250 ")
	if len(special.messages("report@example.org")) != 1 || len(h.bodies("alice@example.org")) != 1 ||
		len(h.bodies("bob@example.org")) != 0 {
		t.Fatal("the second report went astray")
	}
	special.mu.Lock()
	special.fail = true
	special.mu.Unlock()
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<report@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: third\r\n\r\nx\r\n.")
	c.expect("451 4.3.0 ")
	if len(h.bodies("bob@example.org")) != 0 {
		t.Error("bob got a message answered 451")
	}
}

// TestSpecialRecipientsNotFiltered: a DSN whose sender domain fails DMARC with p=reject is
// refused for a mailbox but taken for a special recipient, which the body checks do not judge.
func TestSpecialRecipientsNotFiltered(t *testing.T) {
	special := &recordingSpecial{got: map[string][]string{}}
	f := authFilter(t)
	h, _ := filterHarness(t, f)
	h.srv.SpecialRecipients = special
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	msg := "From: MAILER-DAEMON@bank.example\r\nSubject: Undelivered\r\n\r\nreport\r\n"
	c.sendMessage("", "alice@example.org", msg, "550 5.7.1 ")
	c.sendMessage("", "report@example.org", msg, "250 ")
	if len(special.messages("report@example.org")) != 1 {
		t.Fatal("the report was not delivered")
	}
}

// campaignIntake is the campaign's feedback as the MX sees it (internal/app wires the same).
type campaignIntake struct{ *campaign.Feedback }

func (c campaignIntake) Deliver(ctx context.Context, a address.Address, r io.Reader) error {
	return c.HandleMessage(ctx, a, r)
}

// campaignMX is a harness whose MX hands the campaign addresses to campaign.Feedback, with a
// campaign "june" to the list "news" and a queued ledger row for each address.
type campaignMX struct {
	*harness
	svc      *campaign.Service
	signer   token.Signer
	campaign store.Campaign
	list     store.List
	rows     map[string]store.Recipient
}

func newCampaignMX(t *testing.T, addrs ...string) *campaignMX {
	t.Helper()
	var fb *campaign.Feedback
	h := newHarness(t, func(s *Server) {
		svc := &campaign.Service{Store: s.Store.(store.CampaignStore)}
		fb = &campaign.Feedback{Service: svc, Logger: s.Logger, AbuseAddress: "fbl@example.org"}
		s.SpecialRecipients = campaignIntake{fb}
	})
	ctx := t.Context()
	m := &campaignMX{harness: h, svc: fb.Service, rows: map[string]store.Recipient{}}
	var err error
	if m.list, err = m.svc.CreateList(ctx, campaign.ListInput{Name: "news"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if _, err := m.svc.SaveSubscriber(ctx, campaign.SubscriberInput{Address: a, List: "news"}); err != nil {
			t.Fatal(err)
		}
	}
	st := m.svc.Store
	if m.campaign, err = st.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "s", Text: "t",
		From: "news@example.org", ListIDs: []int64{m.list.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FillRecipients(ctx, m.campaign.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := st.StreamRecipients(ctx, m.campaign.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := st.SetRecipientState(ctx, r.ID, store.RecipientQueued); err != nil {
			t.Fatal(err)
		}
		m.rows[r.Address] = r
	}
	if m.signer, err = m.svc.Signer(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *campaignMX) who(addr string) token.Recipient {
	return token.Recipient{Campaign: m.campaign.ID, Recipient: m.rows[addr].ID}
}

func (m *campaignMX) suppression(t *testing.T, addr string) store.SuppressionReason {
	t.Helper()
	sup, ok, err := m.svc.Store.IsSuppressed(t.Context(), addr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return sup.Reason
}

func (m *campaignMX) events(t *testing.T) string {
	t.Helper()
	stats, err := m.svc.Store.CampaignStats(t.Context(), m.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range []store.EventKind{store.EventBounce, store.EventComplaint, store.EventUnsubscribe} {
		out = append(out, fmt.Sprintf("%s=%d", k, stats.Events[k].Total()))
	}
	return strings.Join(out, " ")
}

// TestCampaignFeedbackOverSMTP: a DSN from the null sender to the VERP address suppresses the
// address and bounces its row; a forged token is accepted and changes nothing; an ARF abuse
// report at the abuse address counts a complaint and suppresses; mail to the mailto address
// unsubscribes; alice, in the same transaction as a DSN, gets her copy.
func TestCampaignFeedbackOverSMTP(t *testing.T) {
	m := newCampaignMX(t, "carol@remote.example", "dave@remote.example", "erin@remote.example")
	ctx := t.Context()
	c := m.dial()
	c.cmd("EHLO mx.remote.example", "250 ")

	dsn := "From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>\r\nTo: <bounce@example.org>\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.remote.example\r\n\r\n" +
		"Final-Recipient: rfc822; carol@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <carol@remote.example>: user unknown\r\n\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@example.org\r\nSubject: June\r\n\r\n--b--\r\n"
	verp := token.BounceAddress(m.signer.SignBounce(m.who("carol@remote.example")), "example.org")
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<"+verp+">", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send(strings.TrimSuffix(dsn, "\r\n") + "\r\n.")
	c.expect("250 ")
	if got := m.suppression(t, "carol@remote.example"); got != store.SuppressHardBounce {
		t.Errorf("carol: suppression %q after the DSN", got)
	}
	if r, err := m.svc.Store.GetRecipient(ctx, m.rows["carol@remote.example"].ID); err != nil || r.State != store.RecipientBounced {
		t.Errorf("carol's row %+v, %v", r, err)
	}
	if inbox := m.bodies("alice@example.org"); len(inbox) != 1 || !strings.Contains(inbox[0], "report-type=delivery-status") {
		t.Errorf("alice's INBOX has %d messages, want the DSN", len(inbox))
	}

	// A forged token: accepted (no retry), dropped.
	before := m.events(t)
	forged := token.Signer{Key: []byte("another key of 32 bytes, not ours")}.SignBounce(m.who("dave@remote.example"))
	c.sendMessage("", "bounce+"+forged+"@example.org", strings.ReplaceAll(dsn, "carol@", "dave@"), "250 ")
	if got := m.suppression(t, "dave@remote.example"); got != "" || m.events(t) != before {
		t.Errorf("forged token: dave suppressed %q, events %s -> %s", got, before, m.events(t))
	}
	if r, _ := m.svc.Store.GetRecipient(ctx, m.rows["dave@remote.example"].ID); r.State != store.RecipientQueued {
		t.Errorf("forged token changed dave's row to %s", r.State)
	}

	// An ARF abuse report at the abuse address, about dave's message.
	arf := "From: fbl@provider.example\r\nTo: fbl@example.org\r\nSubject: abuse report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"r\"\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nA user marked this message as spam.\r\n" +
		"--r\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: ProviderFBL/2.0\r\n" +
		"Version: 1\r\nOriginal-Rcpt-To: dave@remote.example\r\n\r\n" +
		"--r\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <" +
		token.BounceAddress(m.signer.SignBounce(m.who("dave@remote.example")), "example.org") + ">\r\n" +
		"From: news@example.org\r\nTo: dave@remote.example\r\nSubject: June\r\n\r\nHello.\r\n--r--\r\n"
	c.sendMessage("fbl@provider.example", "fbl@example.org", arf, "250 ")
	if got := m.suppression(t, "dave@remote.example"); got != store.SuppressComplaint {
		t.Errorf("dave: suppression %q after the abuse report", got)
	}

	// The List-Unsubscribe mailto address.
	unsub := token.UnsubscribeAddress(m.signer.SignUnsubscribe(m.who("erin@remote.example")), "example.org")
	c.sendMessage("erin@remote.example", unsub, "Subject: unsubscribe\r\n\r\n", "250 ")
	sub, err := m.svc.Store.GetSubscription(ctx, m.rows["erin@remote.example"].SubscriberID, m.list.ID)
	if err != nil || sub.Status != store.StatusUnsubscribed {
		t.Errorf("erin's subscription %+v, %v", sub, err)
	}
	if got, want := m.events(t), "bounce=1 complaint=1 unsubscribe=1"; got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	// No mailbox got any of the reports but alice's one copy.
	if n := len(m.bodies("alice@example.org")) + len(m.bodies("bob@example.org")); n != 1 {
		t.Errorf("%d messages in mailboxes, want 1", n)
	}
}

package campaign

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// feedbackEnv is a campaign "june" to the list "news" with one queued ledger row per address,
// and the Feedback over its service.
type feedbackEnv struct {
	svc      *Service
	fb       *Feedback
	campaign store.Campaign
	list     store.List
	rows     map[string]store.Recipient
	signer   token.Signer
}

func newFeedbackEnv(t testing.TB, addrs ...string) *feedbackEnv {
	t.Helper()
	ctx := t.Context()
	svc := newServiceB(t)
	l, err := svc.CreateList(ctx, ListInput{Name: "news"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if _, err := svc.SaveSubscriber(ctx, SubscriberInput{Address: a, List: "news"}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := svc.Store.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "s", Text: "t",
		From: "news@example.org", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := svc.Store.StreamRecipients(ctx, c.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	e := &feedbackEnv{svc: svc, fb: &Feedback{Service: svc, AbuseAddress: "abuse@example.org"}, campaign: c, list: l,
		rows: map[string]store.Recipient{}}
	for _, r := range rows {
		if err := svc.Store.SetRecipientState(ctx, r.ID, store.RecipientQueued); err != nil {
			t.Fatal(err)
		}
		e.rows[r.Address] = r
	}
	if e.signer, err = svc.Signer(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// outcome applies a queue outcome to addr's row.
func (e *feedbackEnv) outcome(t *testing.T, addr string, o Outcome) {
	t.Helper()
	q := store.QueuedMessage{Outbound: store.Outbound{Recipient: addr, CampaignRecipient: e.rows[addr].ID}}
	if err := e.fb.QueueOutcome(t.Context(), q, o); err != nil {
		t.Fatal(err)
	}
}

func (e *feedbackEnv) state(t *testing.T, addr string) store.RecipientState {
	t.Helper()
	r, err := e.svc.Store.GetRecipient(t.Context(), e.rows[addr].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r.State
}

// suppressed returns addr's suppression reason, "" if none.
func (e *feedbackEnv) suppressed(t *testing.T, addr string) (store.SuppressionReason, string) {
	t.Helper()
	sup, ok, err := e.svc.Store.IsSuppressed(t.Context(), addr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "", ""
	}
	return sup.Reason, sup.Source
}

// events counts the campaign's events by kind.
func (e *feedbackEnv) events(t *testing.T) map[store.EventKind]int64 {
	t.Helper()
	stats, err := e.svc.Store.CampaignStats(t.Context(), e.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.EventKind]int64{}
	for k, c := range stats.Events {
		if c.Total() > 0 {
			out[k] = c.Total()
		}
	}
	return out
}

func (e *feedbackEnv) bounceToken(addr string) string {
	return e.signer.SignBounce(token.Recipient{Campaign: e.campaign.ID, Recipient: e.rows[addr].ID})
}

func (e *feedbackEnv) unsubscribeToken(addr string) string {
	return e.signer.SignUnsubscribe(token.Recipient{Campaign: e.campaign.ID, Recipient: e.rows[addr].ID})
}

// TestQueueOutcomes: a 550 5.1.1 suppresses at once; soft failures suppress at the third in a
// row, unless a delivery came between; deferrals and deliveries mark the row.
func TestQueueOutcomes(t *testing.T) {
	e := newFeedbackEnv(t, "hard@remote.example", "soft@remote.example", "reset@remote.example", "later@remote.example")
	e.outcome(t, "hard@remote.example", Outcome{Kind: OutcomeFailed, Code: 550, Enhanced: "5.1.1", Text: "no such user here"})
	if reason, source := e.suppressed(t, "hard@remote.example"); reason != store.SuppressHardBounce ||
		!strings.Contains(source, fmt.Sprintf("campaign %d", e.campaign.ID)) || !strings.Contains(source, "550 5.1.1 no such user here") {
		t.Errorf("hard bounce: suppression %q %q", reason, source)
	}
	if got := e.state(t, "hard@remote.example"); got != store.RecipientBounced {
		t.Errorf("hard bounce: row %s", got)
	}

	// Three soft bounces in a row: a full mailbox, a policy refusal, an expiry.
	for i, o := range []Outcome{
		{Kind: OutcomeFailed, Code: 552, Enhanced: "5.2.2", Text: "mailbox full"},
		{Kind: OutcomeFailed, Code: 550, Enhanced: "5.7.1", Text: "message refused as spam"},
		{Kind: OutcomeFailed, Code: 451, Enhanced: "4.4.7", Text: "delivery time expired"},
	} {
		if reason, _ := e.suppressed(t, "soft@remote.example"); reason != "" {
			t.Fatalf("suppressed (%s) after %d soft bounces", reason, i)
		}
		e.outcome(t, "soft@remote.example", o)
	}
	if reason, _ := e.suppressed(t, "soft@remote.example"); reason != store.SuppressSoftBounces {
		t.Errorf("after three soft bounces: suppression %q", reason)
	}
	if got := e.state(t, "soft@remote.example"); got != store.RecipientBounced {
		t.Errorf("soft bounce: row %s", got)
	}

	// soft, soft, delivered, soft: the delivery starts the count again.
	soft := Outcome{Kind: OutcomeFailed, Code: 452, Enhanced: "4.2.2", Text: "over quota"}
	e.outcome(t, "reset@remote.example", soft)
	e.outcome(t, "reset@remote.example", soft)
	e.outcome(t, "reset@remote.example", Outcome{Kind: OutcomeDelivered, Code: 250})
	if got := e.state(t, "reset@remote.example"); got != store.RecipientDelivered {
		t.Errorf("delivered: row %s", got)
	}
	e.outcome(t, "reset@remote.example", soft)
	if reason, _ := e.suppressed(t, "reset@remote.example"); reason != "" {
		t.Errorf("a delivery between soft bounces did not reset them: suppressed %q", reason)
	}

	e.outcome(t, "later@remote.example", Outcome{Kind: OutcomeDeferred, Code: 451, Enhanced: "4.3.0", Text: "try again later"})
	if got := e.state(t, "later@remote.example"); got != store.RecipientDeferred {
		t.Errorf("deferred: row %s", got)
	}
	want := map[store.EventKind]int64{store.EventBounce: 7, store.EventDelivered: 1, store.EventDeferred: 1}
	if got := e.events(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestQueueOutcomeAnonymous: an anonymous campaign's events name nobody, the address is
// suppressed all the same.
func TestQueueOutcomeAnonymous(t *testing.T) {
	e := newFeedbackEnv(t, "hard@remote.example")
	e.campaign.Anonymous = true
	if _, err := e.svc.Store.UpdateCampaign(t.Context(), e.campaign); err != nil {
		t.Fatal(err)
	}
	e.outcome(t, "hard@remote.example", Outcome{Kind: OutcomeFailed, Code: 550, Enhanced: "5.1.1"})
	if reason, _ := e.suppressed(t, "hard@remote.example"); reason != store.SuppressHardBounce {
		t.Errorf("suppression %q", reason)
	}
	stats, err := e.svc.Store.CampaignStats(t.Context(), e.campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events[store.EventBounce].Total() != 1 {
		t.Errorf("events %v", stats.Events)
	}
}

// dsnMessage is an RFC 3464 report of one failed recipient.
func dsnMessage(finalRecipient, status, diagnostic string) string {
	return "From: MAILER-DAEMON@remote.example\r\nTo: <bounce@example.org>\r\nSubject: Undelivered Mail\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.remote.example\r\n\r\n" +
		"Final-Recipient: rfc822; " + finalRecipient + "\r\nAction: failed\r\nStatus: " + status + "\r\n" +
		"Diagnostic-Code: smtp; " + diagnostic + "\r\n\r\n" +
		"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@example.org\r\nSubject: June\r\n\r\n--b1--\r\n"
}

// arfMessage is an RFC 5965 report of feedbackType about a message with the header given.
func arfMessage(feedbackType, originalRcptTo, reportedHeader string) string {
	rcptTo := ""
	if originalRcptTo != "" {
		rcptTo = "Original-Rcpt-To: " + originalRcptTo + "\r\n"
	}
	return "From: fbl@provider.example\r\nTo: abuse@example.org\r\nSubject: complaint\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n" +
		"--b2\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: " + feedbackType + "\r\nUser-Agent: ProviderFBL/1.0\r\nVersion: 1\r\n" + rcptTo + "\r\n" +
		"--b2\r\nContent-Type: text/rfc822-headers\r\n\r\n" + reportedHeader + "\r\n--b2--\r\n"
}

func (e *feedbackEnv) handle(t *testing.T, rcpt, msg string) {
	t.Helper()
	a := mustAddress(t, rcpt)
	if !e.fb.Claims(a) {
		t.Errorf("%s is not taken as a feedback address", rcpt)
	}
	if err := e.fb.HandleMessage(t.Context(), a, strings.NewReader(msg)); err != nil {
		t.Fatalf("HandleMessage(%s) = %v", rcpt, err)
	}
}

// TestHandleDSN: a DSN at the VERP address bounces the row its token names, whatever its
// Final-Recipient says; a soft one counts; a forged token changes nothing.
func TestHandleDSN(t *testing.T) {
	e := newFeedbackEnv(t, "carol@remote.example", "dave@remote.example")
	ctx := t.Context()
	e.handle(t, "bounce+"+e.bounceToken("carol@remote.example")+"@example.org",
		dsnMessage("carol@forwarded.example", "5.1.1", "550 5.1.1 user unknown"))
	if reason, source := e.suppressed(t, "carol@remote.example"); reason != store.SuppressHardBounce ||
		!strings.Contains(source, "5.1.1") {
		t.Errorf("suppression %q %q", reason, source)
	}
	if got := e.state(t, "carol@remote.example"); got != store.RecipientBounced {
		t.Errorf("row %s", got)
	}

	// A mailbox full is soft: counted, not suppressed. The local part's case does not matter.
	e.handle(t, "BOUNCE+"+strings.ToUpper(e.bounceToken("dave@remote.example"))+"@example.org",
		dsnMessage("dave@remote.example", "5.2.2", "552 5.2.2 mailbox full"))
	if reason, _ := e.suppressed(t, "dave@remote.example"); reason != "" {
		t.Errorf("a soft bounce suppressed: %q", reason)
	}
	if got := e.state(t, "dave@remote.example"); got != store.RecipientBounced {
		t.Errorf("row %s", got)
	}
	if r, _ := e.svc.Store.GetRecipient(ctx, e.rows["dave@remote.example"].ID); !r.SoftBounce {
		t.Error("soft bounce not marked on the row")
	}
	before := e.events(t)

	// Forged: another key's token, an altered one, a token of the wrong kind, garbage.
	other := token.Signer{Key: []byte("0123456789abcdef0123456789abcdef")}
	forged := other.SignBounce(token.Recipient{Campaign: e.campaign.ID, Recipient: e.rows["dave@remote.example"].ID})
	altered := []byte(e.bounceToken("dave@remote.example"))
	if altered[3] == 'a' {
		altered[3] = 'b'
	} else {
		altered[3] = 'a'
	}
	for _, tok := range []string{forged, string(altered), e.unsubscribeToken("dave@remote.example")} {
		e.handle(t, "bounce+"+tok+"@example.org", dsnMessage("dave@remote.example", "5.1.1", "550 5.1.1 user unknown"))
	}
	if err := e.fb.HandleMessage(ctx, mustAddress(t, "bounce+nonsense@example.org"), strings.NewReader("x")); err != nil {
		t.Errorf("garbage token: %v", err)
	}
	if reason, _ := e.suppressed(t, "dave@remote.example"); reason != "" {
		t.Errorf("a forged token suppressed: %q", reason)
	}
	if after := e.events(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("forged tokens changed the events: %v -> %v", before, after)
	}
	// Not a report at all: dropped without error.
	e.handle(t, "bounce+"+e.bounceToken("dave@remote.example")+"@example.org", "Subject: hi\r\n\r\nThanks!\r\n")
	if reason, _ := e.suppressed(t, "dave@remote.example"); reason != "" {
		t.Errorf("a message that is no report suppressed: %q", reason)
	}
}

// TestHandleARF: an abuse report at the abuse address finds its recipient through the
// reported message's Return-Path, List-Unsubscribe or Feedback-ID; not-spam records nothing.
func TestHandleARF(t *testing.T) {
	e := newFeedbackEnv(t, "a@remote.example", "b@remote.example", "c@remote.example", "d@remote.example")
	e.handle(t, "abuse@example.org", arfMessage("abuse", "",
		"Return-Path: <bounce+"+e.bounceToken("a@remote.example")+"@example.org>\r\nFrom: news@example.org\r\nSubject: June\r\n"))
	e.handle(t, "Abuse@Example.org", arfMessage("fraud", "",
		"From: news@example.org\r\nList-Unsubscribe: <mailto:unsubscribe+x@example.org>,\r\n <https://news.example.org/u/"+
			e.unsubscribeToken("b@remote.example")+">\r\nSubject: June\r\n"))
	e.handle(t, "abuse@example.org", arfMessage("abuse", "<c@remote.example>",
		"From: news@example.org\r\nFeedback-ID: june:news:example.org\r\nSubject: June\r\n"))
	e.handle(t, "abuse@example.org", arfMessage("not-spam", "",
		"Return-Path: <bounce+"+e.bounceToken("d@remote.example")+"@example.org>\r\nSubject: June\r\n"))
	for _, addr := range []string{"a@remote.example", "b@remote.example", "c@remote.example"} {
		if reason, _ := e.suppressed(t, addr); reason != store.SuppressComplaint {
			t.Errorf("%s: suppression %q, want complaint", addr, reason)
		}
	}
	if reason, _ := e.suppressed(t, "d@remote.example"); reason != "" {
		t.Errorf("not-spam suppressed: %q", reason)
	}
	if got := e.events(t); got[store.EventComplaint] != 3 || len(got) != 1 {
		t.Errorf("events %v, want 3 complaints", got)
	}
	// A report that names nothing of ours is dropped.
	before := e.events(t)
	e.handle(t, "abuse@example.org", arfMessage("abuse", "", "From: someone@else.example\r\nSubject: hi\r\n"))
	if after := e.events(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("an unmatched report changed the events: %v", after)
	}
	// A loop that answers the envelope sender: the VERP address names the recipient when the
	// reported header does not.
	e.handle(t, "bounce+"+e.bounceToken("d@remote.example")+"@example.org", arfMessage("abuse", "",
		"From: news@example.org\r\nSubject: June\r\n"))
	if reason, _ := e.suppressed(t, "d@remote.example"); reason != store.SuppressComplaint {
		t.Errorf("report at the VERP address: suppression %q", reason)
	}
}

// TestUnsubscribeByMail: mail to the mailto address unsubscribes from the campaign's lists,
// once; a second message records nothing more.
func TestUnsubscribeByMail(t *testing.T) {
	e := newFeedbackEnv(t, "carol@remote.example")
	rcpt := "unsubscribe+" + e.unsubscribeToken("carol@remote.example") + "@example.org"
	for range 2 {
		e.handle(t, rcpt, "Subject: unsubscribe\r\n\r\n")
	}
	sub, err := e.svc.Store.GetSubscription(t.Context(), e.rows["carol@remote.example"].SubscriberID, e.list.ID)
	if err != nil || sub.Status != store.StatusUnsubscribed {
		t.Errorf("subscription %+v, %v", sub, err)
	}
	if got := e.events(t); got[store.EventUnsubscribe] != 1 {
		t.Errorf("events %v, want one unsubscribe", got)
	}
	if e.fb.Claims(mustAddress(t, "unsubscribe+short@example.org")) || e.fb.Claims(mustAddress(t, "carol@example.org")) {
		t.Error("an address without a plausible token is taken")
	}
}

// BenchmarkQueueOutcomeDelivered measures what the queue's hook costs a delivered campaign
// message: the ledger row, the event and the soft-bounce reset, on SQLite.
func BenchmarkQueueOutcomeDelivered(b *testing.B) {
	const n = 2000
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("user%d@remote.example", i)
	}
	e := newFeedbackEnv(b, addrs...)
	i := 0
	for b.Loop() {
		addr := addrs[i%n]
		i++
		q := store.QueuedMessage{Outbound: store.Outbound{Recipient: addr, CampaignRecipient: e.rows[addr].ID}}
		if err := e.fb.QueueOutcome(b.Context(), q, Outcome{Kind: OutcomeDelivered, Code: 250}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "outcomes/s")
}

package campaign

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/mailauth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// sendEnv is a mail environment (example.org local, with DKIM keys) with a campaign service, an
// outbox and a sender on a fake clock: Wait advances it instead of sleeping.
type sendEnv struct {
	*mailenv.Env
	svc    *Service
	sender *Sender

	mu    sync.Mutex
	clock time.Time
}

func newSendEnv(t *testing.T) *sendEnv {
	t.Helper()
	e := &sendEnv{Env: mailenv.NewWithPasswordHash(t, "mx.example.org", ""), clock: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	if _, err := mailauth.EnsureDKIMKeys(t.Context(), e.Store, "example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.svc = &Service{Store: e.Store, Now: e.now}
	e.sender = &Sender{Service: e.svc, Outbox: &Outbox{Store: e.Store, Committer: e.Committer},
		PublicURL: "https://news.example.org", Logger: e.Logger, Poll: 10 * time.Millisecond,
		Wait: func(ctx context.Context, d time.Duration) error { e.advance(d); return ctx.Err() }}
	return e
}

func (e *sendEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *sendEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

// subscribe adds address to list (confirmed unless the list is double opt-in).
func (e *sendEnv) subscribe(t *testing.T, addr, list string, attrs map[string]any) {
	t.Helper()
	if _, err := e.svc.SaveSubscriber(t.Context(), SubscriberInput{Address: addr, Name: "N " + addr, Attributes: attrs,
		List: list, Tracking: true}); err != nil {
		t.Fatal(err)
	}
}

func (e *sendEnv) campaign(t *testing.T, in CampaignInput) store.Campaign {
	t.Helper()
	if in.From == "" {
		in.From = "News <news@example.org>"
	}
	if in.Subject == "" && in.Template == "" {
		in.Subject, in.HTML = "Hello {{.Name}}", `<p>Hi {{.Name}}, <a href="https://example.com/a">read</a>.</p>`
	}
	c, err := e.svc.CreateCampaign(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *sendEnv) queued(t *testing.T) []store.QueuedMessage {
	t.Helper()
	rows, err := e.Store.(store.QueueStore).ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// runUntil runs the sender loop until cond holds (or fails the test after a deadline).
func (e *sendEnv) runUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.sender.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, 20*time.Second, what, cond)
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval of the wait, not a timing assumption
	}
}

func (e *sendEnv) status(t *testing.T, id int64) store.CampaignStatus {
	t.Helper()
	c, err := e.Store.GetCampaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (e *sendEnv) statusIs(t *testing.T, id int64, want store.CampaignStatus) func() bool {
	return func() bool { return e.status(t, id) == want }
}

// TestLifecycle: templates are kept and checked, a From off the local domains is refused by
// field, and the status moves only along the allowed transitions.
func TestLifecycle(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	e.subscribe(t, "ann@remote.example", "news", nil)

	if _, err := e.svc.CreateTemplate(ctx, TemplateInput{Name: "bad", Subject: "x", Text: "{{.Name"}); err == nil {
		t.Error("a template that does not parse was saved")
	}
	tpl, err := e.svc.CreateTemplate(ctx, TemplateInput{Name: "monthly", Subject: "News for {{.Name}}", Text: "Hello {{.Name}}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateTemplate(ctx, TemplateInput{Name: "monthly", Subject: "x", Text: "y"}); err == nil {
		t.Error("a second template of one name was saved")
	}
	if _, err := e.svc.UpdateTemplate(ctx, TemplateInput{Name: "monthly", Subject: "Monthly {{.Name}}", Text: "Hi"}); err != nil {
		t.Fatal(err)
	}

	_, err = e.svc.CreateCampaign(ctx, CampaignInput{Name: "x", From: "news@elsewhere.example", Lists: []string{"news"}, Template: "monthly"})
	if _, ok := operr.As(err, operr.Invalid, "from"); !ok {
		t.Errorf("From on a remote domain: %v, want an error of field from", err)
	}
	_, err = e.svc.CreateCampaign(ctx, CampaignInput{Name: "x", From: "news@example.org", Lists: []string{"nope"}, Template: "monthly"})
	if _, ok := operr.As(err, operr.NotFound, "list"); !ok {
		t.Errorf("unknown list: %v", err)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Template: "monthly", Lists: []string{"news"}, ReplyTo: "desk@example.org"})
	if c.Subject != "Monthly {{.Name}}" || c.TemplateID != tpl.ID || c.Status != store.CampaignDraft || c.From != `"News" <news@example.org>` {
		t.Errorf("campaign = %+v", c)
	}
	if err := e.svc.DeleteTemplate(ctx, "monthly"); err != nil {
		t.Fatal(err)
	}

	if err := e.svc.Pause(ctx, c.ID); err == nil || !strings.Contains(err.Error(), "is draft: want running") {
		t.Errorf("pause of a draft: %v", err)
	}
	at := e.now().Add(time.Hour)
	if err := e.sender.Schedule(ctx, c.ID, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Campaign(ctx, c.ID); got.Status != store.CampaignScheduled || !got.ScheduledAt.Equal(at) {
		t.Errorf("scheduled campaign = %+v", got)
	}
	// Not due yet: a round leaves it; an hour later it is started.
	if _, err := e.sender.round(ctx, map[int64]*run{}); err != nil {
		t.Fatal(err)
	}
	if s := e.status(t, c.ID); s != store.CampaignScheduled {
		t.Errorf("before its time the campaign is %s", s)
	}
	e.advance(time.Hour)
	if _, err := e.sender.round(ctx, map[int64]*run{}); err != nil {
		t.Fatal(err)
	}
	if s := e.status(t, c.ID); s != store.CampaignRunning {
		t.Errorf("at its time the campaign is %s", s)
	}
	for _, step := range []struct {
		op   func(context.Context, int64) error
		want store.CampaignStatus
		ok   bool
	}{
		{e.svc.Resume, store.CampaignRunning, false},
		{e.svc.Pause, store.CampaignPaused, true},
		{e.svc.Pause, store.CampaignPaused, false},
		{e.svc.Resume, store.CampaignRunning, true},
		{e.svc.Cancel, store.CampaignCancelled, true},
		{e.svc.Resume, store.CampaignCancelled, false},
		{e.svc.Cancel, store.CampaignCancelled, false},
	} {
		err := step.op(ctx, c.ID)
		if (err == nil) != step.ok {
			t.Errorf("step to %s: err %v, want ok %v", step.want, err, step.ok)
		}
		if s := e.status(t, c.ID); s != step.want {
			t.Errorf("status %s, want %s", s, step.want)
		}
	}
	if _, err := e.sender.Start(ctx, c.ID); err == nil {
		t.Error("a cancelled campaign started")
	}
	noURL := &Sender{Service: e.svc, Outbox: e.sender.Outbox}
	d := e.campaign(t, CampaignInput{Name: "july", Lists: []string{"news"}})
	if _, err := noURL.Start(ctx, d.ID); err == nil || !strings.Contains(err.Error(), "public_url") {
		t.Errorf("start without public_url: %v", err)
	}
}

// TestStartCheckStops: a template that fails for one shape of the audience stops the start
// with the subscriber and the field named, before any message: nothing queued, no ledger,
// still a draft.
func TestStartCheckStops(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	e.subscribe(t, "ann@remote.example", "news", map[string]any{"plan": "gold"})
	e.subscribe(t, "bob@remote.example", "news", map[string]any{"plan": "free"})
	e.subscribe(t, "cat@remote.example", "news", map[string]any{"city": "Oslo"})
	c := e.campaign(t, CampaignInput{Name: "june", Subject: "Your {{attr \"plan\"}} plan", Text: "Hello", Lists: []string{"news"}})
	_, err := e.sender.Start(ctx, c.ID)
	if err == nil {
		t.Fatal("Start succeeded")
	}
	if !strings.Contains(err.Error(), "cat@remote.example") || !strings.Contains(err.Error(), "plan") {
		t.Errorf("error does not name the subscriber and the field: %v", err)
	}
	if s := e.status(t, c.ID); s != store.CampaignDraft {
		t.Errorf("status %s, want draft", s)
	}
	if rows, _ := e.Store.StreamRecipients(ctx, c.ID, 0, 10); len(rows) != 0 {
		t.Errorf("ledger has %d rows", len(rows))
	}
	e.runUntil(t, "a loop round", func() bool { return true })
	if q := e.queued(t); len(q) != 0 {
		t.Errorf("queue has %d rows", len(q))
	}
}

// TestSendCampaign: two lists, with a suppressed, an unsubscribed, an unconfirmed subscriber and
// one on both lists: exactly the right addresses are queued once each, at bulk priority with the
// VERP sender, DKIM-signed with the list fields; a local recipient is delivered at once, a
// recipient whose values break the template is skipped and the rest still sent.
func TestSendCampaign(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	mustList(t, e.svc, "offers", "double")
	for _, a := range []string{"ann@remote.example", "both@remote.example", "gone@remote.example", "left@remote.example", "bob@example.org"} {
		e.subscribe(t, a, "news", map[string]any{"plan": "free"})
	}
	e.subscribe(t, "gold@remote.example", "news", map[string]any{"plan": "gold"}) // no "code": fails at render
	if _, err := e.svc.SaveSubscriber(ctx, SubscriberInput{Address: "both@remote.example", List: "offers", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveSubscriber(ctx, SubscriberInput{Address: "offer@remote.example", List: "offers", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	e.subscribe(t, "wait@remote.example", "offers", nil) // unconfirmed
	if _, err := e.svc.Suppress(ctx, SuppressionInput{Address: "gone@remote.example", Reason: store.SuppressHardBounce}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unsubscribe(ctx, SubscriberInput{Address: "left@remote.example", List: "news"}); err != nil {
		t.Fatal(err)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Lists: []string{"news", "offers"}, Tracking: true,
		Subject: "Hello {{.Name}}",
		HTML:    `<p>Hi {{.Name}} of {{range .Lists}}{{.}} {{end}}{{if eq (attr_or "plan" "") "gold"}}{{attr "code"}}{{end}}<a href="https://example.com/a">a</a></p>`})
	n, err := e.sender.Start(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("ledger of %d rows, want 5", n)
	}
	e.runUntil(t, "the campaign finished", e.statusIs(t, c.ID, store.CampaignFinished))

	got := map[string]int{}
	for _, q := range e.queued(t) {
		got[q.Recipient]++
		if q.Priority != store.PriorityBulk || !strings.HasPrefix(q.Sender, "bounce+") || !strings.HasSuffix(q.Sender, "@example.org") ||
			q.CampaignRecipient == 0 {
			t.Errorf("queue row %+v", q)
		}
		msg := e.body(t, q.BlobID)
		h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg))).ReadMIMEHeader()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-Id", "Dkim-Signature"} {
			if h.Get(f) == "" {
				t.Errorf("%s: no %s field", q.Recipient, f)
			}
		}
		sigs := strings.ToLower(strings.Join(h.Values("Dkim-Signature"), " "))
		if len(h.Values("Dkim-Signature")) != 2 || !strings.Contains(strings.ReplaceAll(sigs, " ", ""), "list-unsubscribe:list-unsubscribe-post") {
			t.Errorf("%s: signatures %q", q.Recipient, sigs)
		}
		if q.Recipient == "both@remote.example" && !bytes.Contains(msg, []byte("of news offers")) {
			t.Errorf("both lists not named:\n%s", msg)
		}
	}
	want := map[string]int{"ann@remote.example": 1, "both@remote.example": 1, "offer@remote.example": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("queued %v, want %v", got, want)
	}
	if inbox := e.Mailbox(e.Bob, "INBOX"); len(inbox) != 1 {
		t.Errorf("bob's INBOX has %d messages", len(inbox))
	}
	stats, err := e.Store.CampaignStats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := stats.Recipients; r[store.RecipientQueued] != 3 || r[store.RecipientDelivered] != 1 || r[store.RecipientSkipped] != 1 {
		t.Errorf("ledger %v", r)
	}
	if links, _ := e.Store.CampaignLinks(ctx, c.ID); len(links) != 2 || links[1].URL != "https://example.com/a" {
		t.Errorf("links %+v", links)
	}
}

func (e *sendEnv) body(t *testing.T, blobID string) []byte {
	t.Helper()
	body, err := e.Blobs.Bodies().Open(context.Background(), blobID)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	size, err := body.Size()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(io.NewSectionReader(body, 0, size))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestSendSkipsLateUnsubscribe: an unsubscribe after the start, before the sender reaches the
// row, skips it; a row queued already (a restart after a crash) is not queued again.
func TestSendSkipsLateUnsubscribe(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	for _, a := range []string{"ann@remote.example", "bob@remote.example", "cat@remote.example"} {
		e.subscribe(t, a, "news", nil)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Lists: []string{"news"}})
	if _, err := e.sender.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unsubscribe(ctx, SubscriberInput{Address: "bob@remote.example", List: "news"}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.Store.StreamRecipients(ctx, c.ID, 0, 10)
	if err != nil || len(rows) != 3 {
		t.Fatalf("ledger %v, %v", rows, err)
	}
	// cat's row was queued before a crash.
	if _, err := e.sender.Outbox.Send(ctx, Mail{Sender: "bounce+x@example.org", Recipient: mustAddress(t, "cat@remote.example"),
		SignDomain: "example.org", Message: []byte(outboxMessage), Priority: store.PriorityBulk, CampaignRecipient: rows[2].ID}); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, "the campaign finished", e.statusIs(t, c.ID, store.CampaignFinished))
	got := map[string]int{}
	for _, q := range e.queued(t) {
		got[q.Recipient]++
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]int{"ann@remote.example": 1, "cat@remote.example": 1}) {
		t.Errorf("queued %v", got)
	}
	if r, _ := e.Store.GetRecipient(ctx, rows[1].ID); r.State != store.RecipientSkipped {
		t.Errorf("bob's row is %s", r.State)
	}
}

// TestSendRateCap: at 60 a minute, the queued rows never run ahead of the fake clock (one at
// once, then one a second).
func TestSendRateCap(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	const n = 12
	for i := range n {
		e.subscribe(t, fmt.Sprintf("r%d@remote.example", i), "news", nil)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Lists: []string{"news"}, RatePerMinute: 60})
	start := e.now()
	var over []string
	wait := e.sender.Wait
	e.sender.Wait = func(ctx context.Context, d time.Duration) error {
		elapsed := e.now().Sub(start)
		if q := len(e.queued(t)); float64(q) > 1+elapsed.Seconds() {
			over = append(over, fmt.Sprintf("%d queued after %v", q, elapsed))
		}
		return wait(ctx, d)
	}
	if _, err := e.sender.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, "the campaign finished", e.statusIs(t, c.ID, store.CampaignFinished))
	if len(over) > 0 {
		t.Errorf("ahead of the rate: %v", over)
	}
	if q := len(e.queued(t)); q != n {
		t.Errorf("%d queued, want %d", q, n)
	}
	if elapsed := e.now().Sub(start); elapsed < (n-1)*time.Second || elapsed > (n+1)*time.Second {
		t.Errorf("%d messages at 60/min took %v of the clock", n, elapsed)
	}
}

// TestSendPauseResume: a pause between batches, and one during a rate wait, stop the sending;
// a resume sends the rest, each once.
func TestSendPauseResume(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	const n = 6
	for i := range n {
		e.subscribe(t, fmt.Sprintf("r%d@remote.example", i), "news", nil)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Lists: []string{"news"}})
	if _, err := e.sender.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	e.sender.Batch = 2
	active := map[int64]*run{}
	round := func() {
		t.Helper()
		if _, err := e.sender.round(ctx, active); err != nil {
			t.Fatal(err)
		}
	}
	round()
	if q := len(e.queued(t)); q != 2 {
		t.Fatalf("%d queued after one batch", q)
	}
	if err := e.svc.Pause(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	round()
	round()
	if q := len(e.queued(t)); q != 2 {
		t.Errorf("%d queued while paused", q)
	}
	if err := e.svc.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	// Paused again while waiting for the rate: the batch stops there.
	if _, err := e.Store.UpdateCampaign(ctx, withRate(t, e, c.ID, 60)); err != nil {
		t.Fatal(err)
	}
	wait := e.sender.Wait
	e.sender.Wait = func(ctx context.Context, d time.Duration) error {
		if err := e.svc.Pause(ctx, c.ID); err != nil && !strings.Contains(err.Error(), "is paused") {
			t.Error(err)
		}
		return wait(ctx, d)
	}
	round()
	if q := len(e.queued(t)); q != 3 {
		t.Errorf("%d queued after a pause during the rate wait, want 3", q)
	}
	e.sender.Wait = wait
	if err := e.svc.Resume(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		round()
		if e.status(t, c.ID) == store.CampaignFinished {
			break
		}
	}
	got := map[string]int{}
	for _, q := range e.queued(t) {
		got[q.Recipient]++
	}
	if len(got) != n || e.status(t, c.ID) != store.CampaignFinished {
		t.Errorf("queued %v, status %s", got, e.status(t, c.ID))
	}
	for a, k := range got {
		if k != 1 {
			t.Errorf("%s queued %d times", a, k)
		}
	}
}

func withRate(t *testing.T, e *sendEnv, id int64, rate int) store.Campaign {
	t.Helper()
	c, err := e.Store.GetCampaign(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	c.RatePerMinute = rate
	return c
}

// TestTestSend: a test send goes to the given addresses with "[test]" before the subject,
// rendered with the subscriber record when there is one, not in the ledger, and never to a
// suppressed address.
func TestTestSend(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	e.subscribe(t, "ann@remote.example", "news", nil)
	e.subscribe(t, "bob@example.org", "news", nil)
	if _, err := e.svc.Suppress(ctx, SuppressionInput{Address: "gone@remote.example", Reason: store.SuppressComplaint}); err != nil {
		t.Fatal(err)
	}
	c := e.campaign(t, CampaignInput{Name: "june", Lists: []string{"news"}})
	res, err := e.sender.TestSend(ctx, c.ID, []string{"bob@example.org", "gone@remote.example", "desk@remote.example"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res) != "[{bob@example.org true } {gone@remote.example false suppressed (complaint)} {desk@remote.example true }]" {
		t.Errorf("results %v", res)
	}
	inbox := e.Mailbox(e.Bob, "INBOX")
	if len(inbox) != 1 || !strings.Contains(inbox[0], "Subject: [test] Hello N bob@example.org") {
		t.Errorf("bob's INBOX %q", inbox)
	}
	q := e.queued(t)
	if len(q) != 1 || q[0].Recipient != "desk@remote.example" || q[0].CampaignRecipient != 0 {
		t.Fatalf("queue %+v", q)
	}
	if msg := e.body(t, q[0].BlobID); !bytes.Contains(msg, []byte("Subject: [test] Hello N ann@remote.example")) {
		t.Errorf("test send to a stranger not rendered with a sample subscriber:\n%s", msg)
	}
	if rows, _ := e.Store.StreamRecipients(ctx, c.ID, 0, 10); len(rows) != 0 || e.status(t, c.ID) != store.CampaignDraft {
		t.Errorf("test send touched the ledger (%d rows) or the status", len(rows))
	}
}

// TestBucket: the rate cap gives one second's worth at once, then one token per 1/rate.
func TestBucket(t *testing.T) {
	b := bucket{perMinute: 120}
	now := time.Unix(0, 0)
	if b.take(now) != 0 || b.take(now) != 0 {
		t.Fatal("no burst of two at 120/min")
	}
	d := b.take(now)
	if d != 500*time.Millisecond {
		t.Errorf("wait %v, want 500ms", d)
	}
	if b.take(now.Add(d)) != 0 {
		t.Error("no token after the wait")
	}
	if (&bucket{}).take(now) != 0 {
		t.Error("no cap waits")
	}

}

// TestScheduledCheckFails: a scheduled campaign is checked again when its time comes, against
// the audience of then; one that fails goes back to draft with nothing queued.
func TestScheduledCheckFails(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	e.subscribe(t, "ann@remote.example", "news", map[string]any{"plan": "gold"})
	c := e.campaign(t, CampaignInput{Name: "june", Subject: `{{attr "plan"}} news`, Text: "Hi", Lists: []string{"news"}})
	if err := e.sender.Schedule(ctx, c.ID, e.now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.subscribe(t, "bob@remote.example", "news", nil) // a shape without plan
	e.advance(time.Minute)
	if _, err := e.sender.round(ctx, map[int64]*run{}); err != nil {
		t.Fatal(err)
	}
	if s := e.status(t, c.ID); s != store.CampaignDraft {
		t.Errorf("status %s, want draft", s)
	}
	if q := e.queued(t); len(q) != 0 {
		t.Errorf("%d queued", len(q))
	}
}

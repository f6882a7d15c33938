package campaign

import (
	"bufio"
	"bytes"
	"fmt"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	"posthorn/internal/campaign/token"
	"posthorn/internal/config"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func newTransactional(e *sendEnv) *Transactional {
	return &Transactional{Service: e.svc, Outbox: e.sender.Outbox, Grants: e.Store, PublicURL: "https://news.example.org",
		Logger: e.Logger, MaxRecipients: 5}
}

func receipt() SendRequest {
	return SendRequest{Principal: "token:1", IdempotencyKey: "order-17", SendContent: SendContent{
		From:    "Shop <shop@example.org>",
		To:      []string{"Ann@remote.example", "ann@remote.example", "gone@remote.example", "bob@example.org", "nobody@example.org"},
		Subject: "Order {{attr \"order\"}}", HTML: `<p>Thanks for order {{attr "order"}}, <a href="https://shop.example/o/17">see it</a>.</p>`,
		Data: map[string]any{"order": "17"}, Tracking: true, Tag: "receipts"}}
}

func statuses(res SendResult) string {
	var parts []string
	for _, r := range res.Recipients {
		parts = append(parts, r.Address+"="+r.Status)
	}
	return strings.Join(parts, " ")
}

// TestTransactionalSend: each recipient once, suppressed ones left out, a local one delivered,
// an unknown local one refused; remote mail queued at normal priority with a VERP sender,
// signed, tracked, without List-Unsubscribe; a retry with the key sends nothing more and
// answers the same; the key used for another request is refused.
func TestTransactionalSend(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	tx := newTransactional(e)
	if _, err := e.svc.Suppress(ctx, SuppressionInput{Address: "gone@remote.example", Reason: store.SuppressHardBounce}); err != nil {
		t.Fatal(err)
	}
	res, err := tx.Send(ctx, receipt())
	if err != nil {
		t.Fatal(err)
	}
	want := "ann@remote.example=queued bob@example.org=delivered nobody@example.org=refused gone@remote.example=suppressed"
	if got := statuses(res); got != want || res.Replayed || res.ID == 0 {
		t.Errorf("result %d %v %q, want %q", res.ID, res.Replayed, got, want)
	}
	q := e.queued(t)
	if len(q) != 1 || q[0].Recipient != "ann@remote.example" || q[0].Priority != store.PriorityNormal || q[0].CampaignRecipient == 0 {
		t.Fatalf("queue %+v", q)
	}
	verp, ok := token.ParseAddress(q[0].Sender)
	if !ok || verp.Kind != token.KindBounce || verp.Domain != "example.org" {
		t.Errorf("envelope sender %q", q[0].Sender)
	}
	msg := e.body(t, q[0].BlobID)
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Subject") != "Order 17" || len(h.Values("Dkim-Signature")) != 2 || h.Get("List-Unsubscribe") != "" ||
		h.Get("List-Id") != "" || !strings.Contains(h.Get("Feedback-Id"), "receipts") {
		t.Errorf("header %v", h)
	}
	decoded := bytes.ReplaceAll(msg, []byte("=\r\n"), nil) // quoted-printable soft breaks
	if !bytes.Contains(decoded, []byte("https://news.example.org/t/o/")) || !bytes.Contains(decoded, []byte("https://news.example.org/t/c/")) {
		t.Errorf("no open pixel or tracked link:\n%s", msg)
	}
	if inbox := e.Mailbox(e.Bob, "INBOX"); len(inbox) != 1 {
		t.Errorf("bob's INBOX has %d messages", len(inbox))
	}
	if links, _ := e.Store.CampaignLinks(ctx, res.ID); len(links) != 2 || links[1].URL != "https://shop.example/o/17" {
		t.Errorf("links %+v", links)
	}
	if all, _ := e.svc.Store.ListCampaigns(ctx); len(all) != 0 {
		t.Errorf("a send is listed as a campaign: %+v", all)
	}

	again, err := tx.Send(ctx, receipt())
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.ID != res.ID || statuses(again) != want {
		t.Errorf("retry = %+v", again)
	}
	if q := e.queued(t); len(q) != 1 {
		t.Errorf("a retry queued again: %d rows", len(q))
	}
	if inbox := e.Mailbox(e.Bob, "INBOX"); len(inbox) != 1 {
		t.Errorf("a retry delivered again: %d messages", len(inbox))
	}

	other := receipt()
	other.Subject = "Another"
	if _, err := tx.Send(ctx, other); !isOp(err, operr.Exists, "idempotency_key") {
		t.Errorf("key reused for another request: %v", err)
	}
	other.IdempotencyKey = ""
	if res2, err := tx.Send(ctx, other); err != nil || res2.ID == res.ID {
		t.Errorf("a send without key = %+v, %v", res2, err)
	}
}

// TestTransactionalResumes: a send stored but not sent (the server died between) is sent by
// the retry, once.
func TestTransactionalResumes(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	tx := newTransactional(e)
	req := receipt()
	req.To = []string{"ann@remote.example", "zed@remote.example"}
	from, rcpts, err := tx.check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := requestHash(req)
	if _, _, err := e.Store.CreateTransactional(ctx, store.TransactionalSend{Principal: req.Principal,
		IdempotencyKey: req.IdempotencyKey, RequestHash: hash, Recipients: rcpts,
		Campaign: store.Campaign{Name: "receipts", Subject: req.Subject, HTML: req.HTML, From: from.String(), Tracking: true}}); err != nil {
		t.Fatal(err)
	}
	res, err := tx.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "ann@remote.example=queued zed@remote.example=queued" || !res.Replayed {
		t.Errorf("resumed send = %v %q", res.Replayed, got)
	}
	if q := e.queued(t); len(q) != 2 {
		t.Errorf("queue has %d rows, want 2", len(q))
	}
}

func TestTransactionalRefuses(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	tx := newTransactional(e)
	for _, c := range []struct {
		name  string
		edit  func(*SendRequest)
		code  operr.Code
		field string
	}{
		{"remote from", func(r *SendRequest) { r.From = "a@remote.example" }, operr.Invalid, "from"},
		{"bad from", func(r *SendRequest) { r.From = "not an address" }, operr.Invalid, "from"},
		{"no recipient", func(r *SendRequest) { r.To = nil }, operr.Invalid, "to"},
		{"too many", func(r *SendRequest) {
			r.To = nil
			for i := range 6 {
				r.To = append(r.To, fmt.Sprintf("r%d@remote.example", i))
			}
		}, operr.Invalid, "to"},
		{"bad recipient", func(r *SendRequest) { r.To = []string{"x@"} }, operr.Invalid, "to"},
		{"no subject", func(r *SendRequest) { r.Subject = "" }, operr.Invalid, "subject"},
		{"missing data", func(r *SendRequest) { r.Data = nil }, operr.Invalid, "subject"},
		{"bad template", func(r *SendRequest) { r.HTML = "<p>{{.Nope</p>" }, operr.Invalid, "html"},
		{"bad reply-to", func(r *SendRequest) { r.ReplyTo = "x" }, operr.Invalid, "reply_to"},
		{"long key", func(r *SendRequest) { r.IdempotencyKey = strings.Repeat("k", 201) }, operr.Invalid, "idempotency_key"},
		{"CRLF tag", func(r *SendRequest) { r.Tag = "a\r\nBcc: x@remote.example" }, operr.Invalid, "tag"},
		{"not alice's", func(r *SendRequest) { r.Account = &e.Alice }, operr.Forbidden, "from"},
	} {
		req := receipt()
		c.edit(&req)
		if _, err := tx.Send(ctx, req); !isOp(err, c.code, c.field) {
			t.Errorf("%s: %v, want %s of %s", c.name, err, c.code, c.field)
		}
	}
	if q := e.queued(t); len(q) != 0 {
		t.Errorf("refused requests queued %d messages", len(q))
	}
	req := receipt()
	req.Account, req.From, req.To = &e.Alice, "Alice <alice+shop@example.org>", []string{"ann@remote.example"}
	if res, err := tx.Send(ctx, req); err != nil || statuses(res) != "ann@remote.example=queued" {
		t.Errorf("alice as herself = %+v, %v", res, err)
	}
	noURL := newTransactional(e)
	noURL.PublicURL = ""
	if _, err := noURL.Send(ctx, receipt()); !isOp(err, operr.Invalid, "tracking") {
		t.Errorf("tracking without a public URL: %v", err)
	}
}

func isOp(err error, code operr.Code, field string) bool {
	_, ok := operr.As(err, code, field)
	return ok
}

// TestTransactionalTracked: the open pixel of a send records an open of its campaign; a
// send has no page in the browser.
func TestTransactionalTracked(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	req := receipt()
	req.To = []string{"ann@remote.example"}
	res, err := newTransactional(e).Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.ReplaceAll(e.body(t, e.queued(t)[0].BlobID), []byte("=\r\n"), nil)
	open := regexp.MustCompile(`/t/o/([a-z0-9]+)\.gif`).FindSubmatch(msg)
	view := regexp.MustCompile(`/t/c/([a-z0-9]+)`).FindSubmatch(msg)
	if open == nil || view == nil {
		t.Fatalf("no pixel or link:\n%s", msg)
	}
	cc := config.DefaultCampaign()
	cc.PublicURL = "https://news.example.org"
	tr := NewTracker(e.svc, TrackerConfig{Campaign: cc, Outbox: e.sender.Outbox})
	if err := tr.Open(ctx, string(open[1]), TrackRequest{Method: "GET", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0", RemoteIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	signer, _ := e.svc.Signer(ctx)
	rows, _ := e.Store.CampaignRecipients(ctx, res.ID, 1)
	if _, err := tr.View(ctx, signer.SignView(token.Recipient{Campaign: res.ID, Recipient: rows[0].ID})); err != ErrUnknownToken {
		t.Errorf("view of a send: %v", err)
	}
	tr.Close()
	stats, err := e.Store.CampaignStats(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.OpenRecipients != 1 || stats.UniqueOpens.Human != 1 {
		t.Errorf("opens %+v", stats)
	}
}

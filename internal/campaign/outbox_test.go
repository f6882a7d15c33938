package campaign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// outboxEnv is a mail environment (example.org with alice and bob, a committer) whose domain
// has DKIM keys, and a campaign with one pending recipient for carol@remote.example.
type outboxEnv struct {
	*mailenv.Env
	outbox    *Outbox
	recipient store.Recipient
}

func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "")
	ctx := t.Context()
	if _, err := mailauth.EnsureDKIMKeys(ctx, e.Store, "example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: e.Store}
	l := mustList(t, svc, "news", "")
	if _, err := svc.SaveSubscriber(ctx, SubscriberInput{Address: "carol@remote.example", List: "news"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.Store.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "s", Text: "t", From: "news@example.org", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Store.FillRecipients(ctx, c.ID); err != nil || n != 1 {
		t.Fatalf("FillRecipients = %d, %v", n, err)
	}
	rows, err := e.Store.StreamRecipients(ctx, c.ID, 0, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("StreamRecipients = %v, %v", rows, err)
	}
	return &outboxEnv{Env: e, outbox: &Outbox{Store: e.Store, Committer: e.Committer}, recipient: rows[0]}
}

// queue is the store's outbound queue.
func (e *outboxEnv) queue(t *testing.T) store.QueueStore {
	t.Helper()
	q, ok := e.Store.(store.QueueStore)
	if !ok {
		t.Fatal("the store has no outbound queue")
	}
	return q
}

const outboxMessage = "From: News <news@example.org>\r\nTo: carol@remote.example\r\nSubject: June\r\n" +
	"Message-ID: <june-1@example.org>\r\nList-Unsubscribe: <https://news.example.org/u/x>\r\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nHello.\r\n"

// TestOutboxQueuesSigned: a remote recipient gets one queue row at bulk priority with the VERP
// sender and its campaign recipient, whose ledger row is queued by the same commit, and the
// body carries both DKIM signatures before the message.
func TestOutboxQueuesSigned(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := t.Context()
	sent, err := e.outbox.Send(ctx, Mail{
		Sender:            "bounce+abc@example.org",
		Recipient:         mustAddress(t, "carol@remote.example"),
		SignDomain:        "example.org",
		Message:           []byte(outboxMessage),
		Priority:          store.PriorityBulk,
		CampaignRecipient: e.recipient.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Local || sent.MessageID != "june-1@example.org" {
		t.Errorf("Sent = %+v", sent)
	}
	rows, err := e.queue(t).ListQueue(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("queue = %v, %v", rows, err)
	}
	q := rows[0]
	if q.Sender != "bounce+abc@example.org" || q.Recipient != "carol@remote.example" ||
		q.Priority != store.PriorityBulk || q.CampaignRecipient != e.recipient.ID {
		t.Errorf("queue row = %+v", q)
	}
	if r, err := e.Store.GetRecipient(ctx, e.recipient.ID); err != nil || r.State != store.RecipientQueued {
		t.Errorf("ledger row = %+v, %v; want queued", r, err)
	}
	body, err := e.Blobs.Bodies().Open(ctx, q.BlobID)
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
	if n := bytes.Count(raw, []byte("DKIM-Signature:")); n != 2 || !bytes.HasSuffix(raw, []byte(outboxMessage)) {
		t.Errorf("body has %d signatures; message:\n%s", n, raw)
	}
	if !strings.Contains(string(raw), "list-unsubscribe:list-unsubscribe-post") &&
		!strings.Contains(strings.ToLower(string(raw)), "list-unsubscribe:list-unsubscribe-post") {
		t.Errorf("the signatures do not cover List-Unsubscribe and List-Unsubscribe-Post:\n%s", raw)
	}

	// The same ledger row cannot be queued twice.
	_, err = e.outbox.Send(ctx, Mail{Sender: "bounce+abc@example.org", Recipient: mustAddress(t, "carol@remote.example"),
		SignDomain: "example.org", Message: []byte(outboxMessage), Priority: store.PriorityBulk, CampaignRecipient: e.recipient.ID})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("second Send of one ledger row = %v, want ErrConflict", err)
	}
	if rows, _ := e.queue(t).ListQueue(ctx); len(rows) != 1 {
		t.Errorf("queue has %d rows after the refused second send", len(rows))
	}
}

// TestOutboxLocal: a local recipient's message lands in its INBOX at once; an unknown local
// address is refused before anything is written.
func TestOutboxLocal(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := t.Context()
	sent, err := e.outbox.Send(ctx, Mail{Sender: "bounce+abc@example.org", Recipient: mustAddress(t, "bob@example.org"),
		SignDomain: "example.org", Message: []byte(outboxMessage), Priority: store.PriorityBulk})
	if err != nil || !sent.Local {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	if got := e.Mailbox(e.Bob, "INBOX"); len(got) != 1 || !strings.HasSuffix(got[0], outboxMessage) {
		t.Errorf("bob's INBOX = %q", got)
	}
	_, err = e.outbox.Send(ctx, Mail{Recipient: mustAddress(t, "nobody@example.org"), SignDomain: "example.org",
		Message: []byte(outboxMessage)})
	if !errors.Is(err, ErrUnknownRecipient) {
		t.Errorf("Send to an unknown local address = %v, want ErrUnknownRecipient", err)
	}
	if rows, _ := e.queue(t).ListQueue(ctx); len(rows) != 0 {
		t.Errorf("queue = %v, want empty", rows)
	}
}

func mustAddress(t *testing.T, s string) address.Address {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOutboxDKIMKeysDecodedOnceAndRotated: the Outbox decodes the domain's keys for its first
// message only, and signs with a rotated pair from the first message after the rotation.
func TestOutboxDKIMKeysDecodedOnceAndRotated(t *testing.T) {
	e := newOutboxEnv(t)
	ctx := t.Context()
	var parses int
	e.outbox.dkimKeys.Parse = func(k store.DKIMKey) (crypto.Signer, error) {
		parses++
		key, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			return nil, err
		}
		return key.(crypto.Signer), nil
	}
	send := func() string {
		t.Helper()
		if _, err := e.outbox.Send(ctx, Mail{Sender: "bounce+abc@example.org", Recipient: mustAddress(t, "bob@example.org"),
			SignDomain: "example.org", Message: []byte(outboxMessage), Priority: store.PriorityBulk}); err != nil {
			t.Fatal(err)
		}
		got := e.Mailbox(e.Bob, "INBOX")
		return got[len(got)-1]
	}
	for range 3 {
		send()
	}
	if parses != 2 {
		t.Errorf("3 messages signed with 2 keys decoded %d keys, want 2", parses)
	}

	rotated, err := mailauth.GenerateDKIMKeys("example.org", time.Now().AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range rotated {
		k.CreatedAt = time.Now().Add(time.Hour)
		if _, err := e.Store.AddDKIMKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	msg := send()
	if parses != 4 {
		t.Errorf("after rotation %d keys decoded, want 4", parses)
	}
	for _, k := range rotated {
		if !strings.Contains(msg, "s="+k.Selector+";") {
			t.Errorf("the message after rotation is not signed by %s:\n%s", k.Selector, msg)
		}
	}
	send()
	if parses != 4 {
		t.Errorf("the rotated keys were decoded again: %d decodes, want 4", parses)
	}
}

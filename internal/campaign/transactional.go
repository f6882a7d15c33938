package campaign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"posthorn/internal/address"
	"posthorn/internal/campaign/render"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Transactional sends the messages of the send API (POST /api/v1/send): one message to each
// of a few recipients, at once, at normal priority (not bulk: a receipt or a password reset
// must not wait behind a newsletter), signed with the From domain's DKIM keys and through the
// same Outbox as campaigns, so the suppression ledger, the VERP bounce address, the queue's
// outcomes and, when asked for, open and click tracking work as for a campaign.
//
// A send is stored before anything leaves (store.TransactionalSend: a finished campaign of
// kind transactional, a pending send-ledger row per recipient), and a row goes pending ->
// queued with its queue row, as a campaign's does. So a request retried with its idempotency
// key after a crash, a timeout or a lost answer sends only what the first attempt did not,
// and answers with the same send; a key used again for another request is refused. Suppressed
// addresses get no row and no message. Transactional mail carries no List-Unsubscribe: it is
// not list mail (RFC 2369 §2), and an unsubscribe would leave no list.
type Transactional struct {
	Service *Service
	Outbox  *Outbox
	// Grants gives the send-as grants of accounts, for requests made with an account's token.
	Grants store.SendAsLister
	// PublicURL is the https base of tracking links ([campaign] public_url); without it a
	// request for tracking is refused.
	PublicURL string
	Logger    *slog.Logger
	// MaxRecipients bounds the recipients of one request. Default: 50.
	MaxRecipients int
}

// SendRequest is one request of the send API: who asks, under which key, and what to send.
type SendRequest struct {
	// Principal names who asks ("token:ID"); idempotency keys are kept per principal.
	Principal string
	// Account is the account whose token asks, nil for an admin token: an account may send
	// only as its own addresses (store.MaySendAs), an admin as any address of a local domain.
	Account *store.Account
	// IdempotencyKey makes a retry safe ("": none); at most 200 bytes.
	IdempotencyKey string
	SendContent
}

// SendContent is what a request sends, as the API's JSON body has it; a retry under the same
// key must send the same content. Subject, HTML and Text are templates, as a campaign's
// (package render), that see .Email, .Attributes (Data) and .Campaign (Tag).
type SendContent struct {
	From     string         `json:"from"`     // "a@example.org" or "Name <a@example.org>", on a local domain
	ReplyTo  string         `json:"reply_to"` // optional
	To       []string       `json:"to"`       // one message each
	Subject  string         `json:"subject"`
	HTML     string         `json:"html"`
	Text     string         `json:"text"`     // empty: made from HTML
	Data     map[string]any `json:"data"`     // .Attributes of the templates
	Tracking bool           `json:"tracking"` // open pixel and tracked links
	Tag      string         `json:"tag"`      // names the send in its statistics and Feedback-ID; default "send"
}

// SendResult is what became of a request.
type SendResult struct {
	// ID is the send's campaign: GET /api/v1/campaigns/{id}/stats has its numbers.
	ID int64 `json:"id"`
	// Replayed reports an answer to a retry: the send is the one the key first made.
	Replayed   bool        `json:"replayed"`
	Recipients []SendState `json:"recipients"`
}

// SendState is where one recipient of a send stands.
type SendState struct {
	Address string `json:"address"`
	// Status is "queued", "delivered" (a local recipient, or the remote server took it),
	// "deferred", "bounced", "suppressed" (the ledger holds the address: nothing was sent),
	// "refused" (a local address with no mailbox), or "pending" (not sent yet: retry with
	// the same key).
	Status string `json:"status"`
}

// maxIdempotencyKey bounds a key's length.
const maxIdempotencyKey = 200

func (t *Transactional) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Send checks req, stores it and sends every message it has not sent yet.
func (t *Transactional) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	from, rcpts, err := t.check(ctx, req)
	if err != nil {
		return SendResult{}, err
	}
	hash, err := requestHash(req)
	if err != nil {
		return SendResult{}, err
	}
	suppressed, err := t.Service.Store.SuppressedAmong(ctx, rcpts, t.Service.now())
	if err != nil {
		return SendResult{}, fmt.Errorf("suppressions: %w", err)
	}
	send := store.TransactionalSend{Principal: req.Principal, IdempotencyKey: req.IdempotencyKey, RequestHash: hash,
		Campaign: store.Campaign{Name: tagOf(req), Subject: req.Subject, HTML: req.HTML, Text: req.Text,
			From: from.String(), ReplyTo: req.ReplyTo, Tracking: req.Tracking}}
	for _, a := range rcpts {
		if _, ok := suppressed[a]; ok {
			send.Suppressed = append(send.Suppressed, a)
		} else {
			send.Recipients = append(send.Recipients, a)
		}
	}
	stored, created, err := t.Service.Store.CreateTransactional(ctx, send)
	if err != nil {
		return SendResult{}, err
	}
	if !created && !bytes.Equal(stored.RequestHash, hash) {
		return SendResult{}, operr.New(operr.Exists, "idempotency_key", req.IdempotencyKey, nil,
			"idempotency key %q was used for another request", req.IdempotencyKey)
	}
	if err := t.deliver(ctx, req, from, stored); err != nil {
		return SendResult{}, err
	}
	return t.result(ctx, stored, !created)
}

// check validates req and returns its sender and its recipients, normalised, each once.
func (t *Transactional) check(ctx context.Context, req SendRequest) (sender, []string, error) {
	if len(req.IdempotencyKey) > maxIdempotencyKey {
		return sender{}, nil, operr.New(operr.Invalid, "idempotency_key", "", nil,
			"idempotency key of %d bytes: at most %d", len(req.IdempotencyKey), maxIdempotencyKey)
	}
	from, err := parseSender("from", req.From)
	if err != nil {
		return sender{}, nil, err
	}
	if err := t.Service.checkLocal(ctx, from.Address); err != nil {
		return sender{}, nil, err
	}
	if req.Account != nil {
		ok, err := store.MaySendAs(ctx, t.Outbox.Store, t.Grants, *req.Account, from.Address)
		if err != nil {
			return sender{}, nil, err
		}
		if !ok {
			return sender{}, nil, operr.New(operr.Forbidden, "from", from.Address.String(), nil,
				"%s may not send as %s", req.Account.Address, from.Address)
		}
	}
	if req.ReplyTo != "" {
		if _, err := operr.ParseAddress("reply_to", req.ReplyTo); err != nil {
			return sender{}, nil, err
		}
	}
	if req.Tracking && t.PublicURL == "" {
		return sender{}, nil, operr.New(operr.Invalid, "tracking", "true", nil,
			"tracking needs the server's public URL ([campaign] public_url)")
	}
	if err := CheckName(tagOf(req)); err != nil {
		return sender{}, nil, operr.New(operr.Invalid, "tag", req.Tag, err, "tag %q: %v", req.Tag, err)
	}
	limit := t.MaxRecipients
	if limit <= 0 {
		limit = 50
	}
	if len(req.To) == 0 || len(req.To) > limit {
		return sender{}, nil, operr.New(operr.Invalid, "to", strconv.Itoa(len(req.To)), nil,
			"%d recipients: give 1 to %d", len(req.To), limit)
	}
	var rcpts []string
	seen := map[string]bool{}
	for _, s := range req.To {
		a, err := operr.ParseAddress("to", s)
		if err != nil {
			return sender{}, nil, err
		}
		if !seen[a] {
			seen[a] = true
			rcpts = append(rcpts, a)
		}
	}
	if err := checkContent(req.Subject, req.HTML, req.Text); err != nil {
		return sender{}, nil, err
	}
	comp, err := t.compile(ctx, req, from, 0)
	if err != nil {
		return sender{}, nil, err
	}
	sample := render.Recipient{Address: from.Address, Attributes: req.Data}
	if err := render.Check(comp, func(yield func(render.Recipient) bool) { yield(sample) }); err != nil {
		field := "data"
		var te *render.TemplateError
		if errors.As(err, &te) {
			field = te.Template
		}
		return sender{}, nil, operr.New(operr.Invalid, field, "", err, "%v", err)
	}
	return from, rcpts, nil
}

func tagOf(req SendRequest) string {
	if req.Tag == "" {
		return "send"
	}
	return req.Tag
}

// requestHash identifies what req sends, whoever asks and under whichever key.
func requestHash(req SendRequest) ([]byte, error) {
	b, err := json.Marshal(req.SendContent) // map keys sorted: the same content hashes the same
	if err != nil {
		return nil, operr.New(operr.Invalid, "data", "", err, "data: %v", err)
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// compile parses req's templates; for a stored send (campaignID not 0) with the send's link
// table, kept in the store, so that its click tokens resolve.
func (t *Transactional) compile(ctx context.Context, req SendRequest, from sender, campaignID int64) (*render.Campaign, error) {
	content := render.Content{Campaign: tagOf(req), Subject: req.Subject, HTML: req.HTML, Text: req.Text,
		Tracking: req.Tracking, From: from.Address, FromName: from.Name, Now: t.Service.now}
	if req.ReplyTo != "" {
		content.ReplyTo, _ = address.Parse(req.ReplyTo) // checked before
	}
	var table *linkTable
	if campaignID != 0 {
		content.FeedbackID = render.FeedbackID(strconv.FormatInt(campaignID, 10), tagOf(req), from.Address.Domain)
		var err error
		if table, err = loadLinks(ctx, t.Service.Store, campaignID); err != nil {
			return nil, err
		}
		content.Links = table.urls[1:]
		content.NewLink = func(idx int, target string) error { return table.add(ctx, idx, target) }
	}
	comp, err := render.Compile(content)
	if err != nil {
		var te *render.TemplateError
		if errors.As(err, &te) {
			return nil, operr.New(operr.Invalid, te.Template, "", err, "%v", err)
		}
		return nil, operr.New(operr.Invalid, "html", "", err, "%v", err)
	}
	if table != nil {
		if err := table.keep(ctx, comp.Targets()); err != nil {
			return nil, err
		}
	}
	return comp, nil
}

// deliver renders and commits the message of every pending ledger row of send.
func (t *Transactional) deliver(ctx context.Context, req SendRequest, from sender, send store.TransactionalSend) error {
	rows, err := t.Service.Store.CampaignRecipients(ctx, send.Campaign.ID, len(send.Recipients))
	if err != nil {
		return err
	}
	var comp *render.Campaign
	signer, err := t.Service.Signer(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, row := range rows {
		if row.State != store.RecipientPending {
			continue
		}
		if comp == nil {
			if comp, err = t.compile(ctx, req, from, send.Campaign.ID); err != nil {
				return err
			}
		}
		rcpt, err := address.Parse(row.Address)
		if err != nil {
			return fmt.Errorf("recipient %d: %w", row.ID, err)
		}
		links := Links{Signer: signer, Base: t.PublicURL, Domain: from.Address.Domain, Campaign: send.Campaign.ID,
			Recipient: row.ID}
		buf.Reset()
		r := render.Recipient{Address: rcpt, Attributes: req.Data, Tracking: row.Tracking}
		if err := comp.Render(&buf, r, transactionalLinks{links}); err != nil {
			return operr.New(operr.Invalid, "data", "", err, "%s: %v", rcpt, err)
		}
		sent, err := t.Outbox.Send(ctx, Mail{Sender: links.BounceAddress(), Recipient: rcpt,
			SignDomain: from.Address.Domain, Message: buf.Bytes(), Priority: store.PriorityNormal,
			CampaignRecipient: row.ID})
		if err == nil {
			t.Service.Metrics.messageSent("transactional")
		}
		switch {
		case errors.Is(err, store.ErrConflict):
			continue // queued by a concurrent retry
		case errors.Is(err, ErrUnknownRecipient):
			err = t.Service.Store.SetRecipientState(ctx, row.ID, store.RecipientSkipped)
		case err == nil && sent.Local:
			err = t.Service.Store.SetRecipientState(ctx, row.ID, store.RecipientDelivered)
		}
		if err != nil {
			return fmt.Errorf("send to %s: %w", rcpt, err)
		}
		t.logger().Info("transactional message sent", "send", send.Campaign.ID, "recipient", rcpt.String(),
			"message_id", sent.MessageID)
	}
	return nil
}

// result reads where each recipient of send stands.
func (t *Transactional) result(ctx context.Context, send store.TransactionalSend, replayed bool) (SendResult, error) {
	rows, err := t.Service.Store.CampaignRecipients(ctx, send.Campaign.ID, len(send.Recipients))
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{ID: send.Campaign.ID, Replayed: replayed}
	for _, r := range rows {
		status := string(r.State)
		if r.State == store.RecipientSkipped {
			status = "refused"
		}
		res.Recipients = append(res.Recipients, SendState{Address: r.Address, Status: status})
	}
	for _, a := range send.Suppressed {
		res.Recipients = append(res.Recipients, SendState{Address: a, Status: "suppressed"})
	}
	return res, nil
}

// transactionalLinks are a send's links: tracking and the view in a browser, no unsubscribe
// and no preferences (no List-Unsubscribe field is written).
type transactionalLinks struct{ links Links }

func (l transactionalLinks) UnsubscribeURL() string { return "" }
func (l transactionalLinks) PreferencesURL() string { return "" }
func (l transactionalLinks) ViewURL() string        { return l.links.ViewURL() }
func (l transactionalLinks) ClickURL(idx int, target string) string {
	return l.links.ClickURL(idx, target)
}
func (l transactionalLinks) OpenURL() string { return l.links.OpenURL() }

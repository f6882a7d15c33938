package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/delivery"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

// OutboxStore is what the Outbox needs of the store: the directory, to tell local recipients
// from remote ones (store.Resolve), and the DKIM keys of the sending domain.
type OutboxStore interface {
	store.Store
	DKIMKeys(ctx context.Context, domain string) ([]store.DKIMKey, error)
}

// Outbox is the one way bulk mail leaves: campaign messages, test sends and confirmation mails
// all go through Send, which signs a message with the From domain's DKIM keys, as submission
// does, and commits it through the delivery committer: for a remote recipient one queue row
// (at the Mail's priority, carrying its campaign recipient so the queue's outcome reaches the
// campaign), for a local one a copy in each of its accounts' INBOX. Send returns when the
// message is durable. The keys are read from the store for every message (so a rotation
// applies at once) and decoded once (dkimKeys); an Outbox must not be copied after first use.
type Outbox struct {
	Store     OutboxStore
	Committer *delivery.Committer

	dkimKeys mailauth.DKIMKeyCache
}

// Mail is one message for one recipient.
type Mail struct {
	// Sender is the envelope sender (RFC 5321 reverse-path): a campaign's VERP address, so
	// that every bounce names its recipient.
	Sender    string
	Recipient address.Address
	// SignDomain is the domain whose DKIM keys sign the message: the From address's.
	SignDomain string
	// Message is the whole message, header and body, with CRLF line ends, unsigned.
	Message  []byte
	Priority store.Priority
	// CampaignRecipient is the send-ledger row this message is for (0: none). The store moves
	// the row from pending to queued in the transaction that queues the message, so a row is
	// never queued twice.
	CampaignRecipient int64
}

// Sent says where Send put a message.
type Sent struct {
	// Local reports that the recipient is on a local domain: the message is in its mailboxes
	// now (delivered), not in the queue.
	Local     bool
	MessageID string // the Message-ID without angle brackets, "" when the message has none
}

// ErrUnknownRecipient is returned by Send for an address on a local domain that has no
// account, alias or catch-all.
var ErrUnknownRecipient = errors.New("no such local recipient")

// Send signs m and commits it.
func (o *Outbox) Send(ctx context.Context, m Mail) (Sent, error) {
	targets, local, err := o.route(ctx, m.Recipient)
	if err != nil {
		return Sent{}, err
	}
	sigs, err := o.sign(ctx, m)
	if err != nil {
		return Sent{}, err
	}
	draft, err := o.Committer.NewDraft(ctx)
	if err != nil {
		return Sent{}, err
	}
	defer draft.Abort()
	for _, s := range sigs {
		if _, err := draft.Write([]byte(s)); err != nil {
			return Sent{}, fmt.Errorf("write message: %w", err)
		}
	}
	if _, err := draft.Write(m.Message); err != nil {
		return Sent{}, fmt.Errorf("write message: %w", err)
	}
	msg := delivery.Message{Targets: targets}
	if !local {
		msg.Outbound = []store.Outbound{{
			Sender:            m.Sender,
			Recipient:         m.Recipient.String(),
			Priority:          m.Priority,
			SMTPUTF8:          !isASCII(m.Sender) || !isASCII(m.Recipient.String()),
			EightBit:          !isASCII(string(m.Message)),
			CampaignRecipient: m.CampaignRecipient,
		}}
	}
	committed, err := draft.Commit(ctx, msg)
	if err != nil {
		return Sent{}, err
	}
	return Sent{Local: local, MessageID: committed.MessageID}, nil
}

// route finds the INBOX of each account of a local recipient; a remote one has none.
func (o *Outbox) route(ctx context.Context, rcpt address.Address) ([]store.Target, bool, error) {
	res, err := store.Resolve(ctx, o.Store, rcpt)
	switch {
	case errors.Is(err, store.ErrUnknownDomain):
		return nil, false, nil
	case errors.Is(err, store.ErrNoSuchUser):
		return nil, true, fmt.Errorf("%s: %w", rcpt, ErrUnknownRecipient)
	case err != nil:
		return nil, false, fmt.Errorf("resolve %s: %w", rcpt, err)
	}
	targets := make([]store.Target, len(res.Accounts))
	for i, a := range res.Accounts {
		targets[i] = store.Target{AccountID: a.ID, Mailbox: "INBOX"}
	}
	return targets, true, nil
}

// sign returns the DKIM-Signature fields of m (RFC 6376), none when the domain has no keys.
func (o *Outbox) sign(ctx context.Context, m Mail) ([]string, error) {
	keys, err := o.Store.DKIMKeys(ctx, m.SignDomain)
	if err != nil {
		return nil, fmt.Errorf("dkim keys of %s: %w", m.SignDomain, err)
	}
	keys = mailauth.SigningKeys(keys)
	if len(keys) == 0 {
		return nil, nil
	}
	sigs, err := o.dkimKeys.Sign(bytes.NewReader(m.Message), keys)
	if err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return sigs, nil
}

func isASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) < 0
}

package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The public subscription form. Anyone can post any address to it, so it must not become a
// way to mail-bomb a stranger or to learn who is subscribed:
//
//   - Each client network (IPv4 address, IPv6 /64) may post Config.FormPerIPPerHour requests
//     an hour; more are ErrRateLimited (the web's 429). The count is kept in memory (bounded,
//     see windowLimit), so a restart forgets it.
//   - A double opt-in list sends one confirmation mail, and never a second while one is
//     pending and unexpired: the pending request is the unconfirmed subscription itself, whose
//     consent time is when its confirmation was sent, so this holds across restarts. On top,
//     at most Config.FormPerAddressPerDay confirmation mails go to one address a day (in
//     memory), whatever the list.
//   - The answer is the same whether a mail was sent or not, whether the address was new,
//     subscribed, pending or over its limit: "pending" for a double opt-in list, "subscribed"
//     for a single opt-in one.
//   - A request never changes an existing subscriber's name or attributes (a stranger could
//     otherwise rename anyone); the name given is kept for a new subscriber only. A confirmed
//     subscription stays as it is.
//   - The confirmation mail is plain text, at normal priority, From ConfirmFrom (default
//     postmaster@ the local domain added first: lists have no sender of their own), with the
//     signed Confirm link valid Config.ConfirmHours. Following the link shows a page; only its
//     POST confirms (ConfirmSubscription), so link scanners confirm nobody.
//
// A Confirm token carries one subscription id: since a subscription is a (subscriber, list)
// pair, the id is subscriber id × 2^20 + list id (subscriptionID), so list ids up to 2^20 and
// subscriber ids up to 2^43 can be confirmed by link.

// ErrRateLimited is a form request over the per-client limit.
var ErrRateLimited = errors.New("too many subscription requests; try again later")

// ErrLinkExpired is a genuine confirmation link past its validity.
var ErrLinkExpired = errors.New("the confirmation link has expired")

// FormStatus is the answer to a form request.
type FormStatus string

const (
	FormPending    FormStatus = "pending"    // a double opt-in list: confirm by the link mailed
	FormSubscribed FormStatus = "subscribed" // a single opt-in list
)

// FormRequest is one post of the public subscription form.
type FormRequest struct {
	List    string
	Address string
	Name    string
	IP      string // the client's address
	// ConsentText is the text the form showed, kept in the consent record.
	ConsentText string
	// Tracking is the consent to open and click tracking (a box on the form).
	Tracking bool
}

const listIDBits = 20

func subscriptionID(subscriberID, listID int64) (int64, bool) {
	if listID <= 0 || listID >= 1<<listIDBits || subscriberID <= 0 || subscriberID > math.MaxInt64>>listIDBits {
		return 0, false
	}
	return subscriberID<<listIDBits | listID, true
}

func splitSubscriptionID(id int64) (subscriberID, listID int64) {
	return id >> listIDBits, id & (1<<listIDBits - 1)
}

// Subscribe takes a post of the subscription form. Input errors are *operr.Error with Field
// "email", "name" or "list" (operr.NotFound for an unknown list).
func (t *Tracker) Subscribe(ctx context.Context, req FormRequest) (FormStatus, error) {
	now := t.svc.now()
	if !t.form.perIP.allow(clientNetwork(req.IP), now) {
		return "", ErrRateLimited
	}
	addr, err := operr.ParseAddress("email", req.Address)
	if err != nil {
		return "", err
	}
	if err := CheckName(req.Name); err != nil {
		return "", err
	}
	if len(req.ConsentText) > maxConsentText {
		return "", operr.New(operr.Invalid, "consent_text", "", nil, "consent text is longer than %d bytes", maxConsentText)
	}
	l, err := t.svc.list(ctx, req.List)
	if err != nil {
		return "", err
	}
	sub := store.Subscriber{Address: addr, Name: req.Name}
	cur := store.Subscription{}
	switch old, err := t.svc.Store.GetSubscriber(ctx, addr); {
	case err == nil:
		sub = old
		cur, err = t.svc.Store.GetSubscription(ctx, old.ID, l.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("subscription of %s: %w", addr, err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("subscriber %s: %w", addr, err)
	}
	answer := FormSubscribed
	if l.OptIn == store.OptInDouble {
		answer = FormPending
	}
	switch {
	case cur.Status == store.StatusConfirmed:
		return answer, nil
	case l.OptIn == store.OptInDouble && cur.Status == store.StatusUnconfirmed && now.Sub(cur.Consent.At) < t.confirmTTL:
		return answer, nil // one confirmation pending: none more
	case l.OptIn == store.OptInDouble && !t.form.perAddress.allow(addr, now):
		return answer, nil
	}
	c := store.Consent{At: now, Source: store.SourceForm, IP: t.consentIP(req.IP), Text: req.ConsentText, Tracking: req.Tracking}
	status := initialStatus(l, false)
	saved, err := t.svc.Store.SubscribeToList(ctx, l.ID, []store.SubscribeRequest{{Subscriber: sub, Status: status, Consent: c}})
	if err != nil {
		return "", fmt.Errorf("subscribe %s to %s: %w", addr, l.Name, err)
	}
	if status == store.StatusUnconfirmed {
		if err := t.sendConfirmation(ctx, l, saved[0]); err != nil {
			return "", err
		}
	}
	return answer, nil
}

// sendConfirmation mails the confirmation link of sub's subscription to l.
func (t *Tracker) sendConfirmation(ctx context.Context, l store.List, sub store.Subscriber) error {
	id, ok := subscriptionID(sub.ID, l.ID)
	if !ok {
		return fmt.Errorf("subscription of %d to list %d has no confirmation id", sub.ID, l.ID)
	}
	if t.outbox == nil {
		return errors.New("no outbox for confirmation mails")
	}
	signer, err := t.signer(ctx)
	if err != nil {
		return err
	}
	from, err := t.confirmSender(ctx)
	if err != nil {
		return err
	}
	to, err := address.Parse(sub.Address)
	if err != nil {
		return fmt.Errorf("subscriber address %q: %w", sub.Address, err)
	}
	now := t.svc.now()
	link := t.publicURL + PathConfirm + signer.SignConfirm(id, now.Add(t.confirmTTL))
	text := fmt.Sprintf("Someone, probably you, asked to subscribe %s to the list %q.\n\n"+
		"To confirm, open this link and press the button on the page:\n\n%s\n\n"+
		"The link is valid for %d hours. If you did not ask for this, ignore this message:\n"+
		"nothing more will be sent.\n", to, l.Name, link, int(t.confirmTTL.Hours()))
	var msg bytes.Buffer
	h := render.Header{From: from, To: to, ToName: sub.Name, Subject: "Confirm your subscription to " + l.Name, Date: now}
	if err := render.Build(&msg, h, nil, []byte(text)); err != nil {
		return fmt.Errorf("build confirmation mail: %w", err)
	}
	_, err = t.outbox.Send(ctx, Mail{Sender: from.String(), Recipient: to, SignDomain: from.Domain,
		Message: msg.Bytes(), Priority: store.PriorityNormal})
	if errors.Is(err, ErrUnknownRecipient) {
		t.logger.Info("confirmation mail for an unknown local address not sent", "list", l.Name)
		return nil // the same answer as for any address
	}
	if err != nil {
		return fmt.Errorf("send confirmation mail: %w", err)
	}
	return nil
}

// confirmSender is the From of confirmation mails: ConfirmFrom, or postmaster@ the local
// domain added first.
func (t *Tracker) confirmSender(ctx context.Context) (address.Address, error) {
	if t.confirmFrom != "" {
		return address.Parse(t.confirmFrom)
	}
	domains, err := t.outbox.Store.ListDomains(ctx)
	if err != nil {
		return address.Address{}, fmt.Errorf("local domains: %w", err)
	}
	var first store.Domain
	for _, d := range domains {
		if first.Name == "" || d.ID < first.ID {
			first = d
		}
	}
	if first.Name == "" {
		return address.Address{}, errors.New("no local domain to send confirmation mails from")
	}
	return address.Parse("postmaster@" + first.Name)
}

// Confirmation is the subscription a confirmation link names, for its page.
type Confirmation struct {
	List    string
	Address string
}

// PendingConfirmation checks a confirmation token without confirming (the page a GET
// shows): ErrUnknownToken, ErrLinkExpired, or the subscription.
func (t *Tracker) PendingConfirmation(ctx context.Context, tok string) (Confirmation, error) {
	c, _, _, err := t.confirmation(ctx, tok)
	return c, err
}

func (t *Tracker) confirmation(ctx context.Context, tok string) (Confirmation, int64, int64, error) {
	signer, err := t.signer(ctx)
	if err != nil {
		return Confirmation{}, 0, 0, err
	}
	cf, err := signer.VerifyConfirm(tok, t.svc.now())
	if errors.Is(err, token.ErrExpired) {
		return Confirmation{}, 0, 0, ErrLinkExpired
	} else if err != nil {
		return Confirmation{}, 0, 0, ErrUnknownToken
	}
	subID, listID := splitSubscriptionID(cf.Subscription)
	sub, err := t.svc.Store.GetSubscriberByID(ctx, subID)
	if err != nil {
		return Confirmation{}, 0, 0, unknown("subscriber", err)
	}
	l, err := t.svc.Store.GetListByID(ctx, listID)
	if err != nil {
		return Confirmation{}, 0, 0, unknown("list", err)
	}
	if _, err := t.svc.Store.GetSubscription(ctx, subID, listID); err != nil {
		return Confirmation{}, 0, 0, unknown("subscription", err)
	}
	return Confirmation{List: l.Name, Address: sub.Address}, subID, listID, nil
}

// ConfirmSubscription confirms the subscription of a confirmation token, recording the
// consent: source form, the truncated IP, and consentText (the text the confirmation page
// showed; "" keeps the form's).
func (t *Tracker) ConfirmSubscription(ctx context.Context, tok, ip, consentText string) (Confirmation, error) {
	c, subID, listID, err := t.confirmation(ctx, tok)
	if err != nil {
		return Confirmation{}, err
	}
	in := SubscriberInput{Source: store.SourceForm, IP: t.consentIP(ip), ConsentText: strings.TrimSpace(consentText)}
	if err := t.svc.Confirm(ctx, subID, listID, in); err != nil {
		return Confirmation{}, fmt.Errorf("confirm subscription: %w", err)
	}
	return c, nil
}

// FormList is what the subscription form shows of a list.
type FormList struct {
	Name        string
	Description string
	DoubleOptIn bool
}

// FormList returns the list the form is for: *operr.Error operr.NotFound for an unknown one.
func (t *Tracker) FormList(ctx context.Context, name string) (FormList, error) {
	l, err := t.svc.list(ctx, name)
	if err != nil {
		return FormList{}, err
	}
	return FormList{Name: l.Name, Description: l.Description, DoubleOptIn: l.OptIn == store.OptInDouble}, nil
}

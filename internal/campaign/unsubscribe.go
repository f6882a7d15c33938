package campaign

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"posthorn/internal/store"
)

// Unsubscribe and preferences by token. The unsubscribe link of a campaign message (and its
// mailto address) names one recipient of one campaign: following it ends the subscriber's
// subscriptions to every list of that campaign, records the withdrawal as the subscriptions'
// consent record (source form, the truncated IP) and one unsubscribe event (naming the
// recipient unless the campaign is anonymous). It is idempotent: a second time changes
// nothing and records nothing. It adds nothing to the suppression ledger — the person left
// these lists, not every mail — so only the preferences page's "leave all" adds an
// unsubscribe suppression. A token of the anonymous mode (recipient 0) names nobody and is
// ErrUnknownToken. The unsubscribe takes effect for every campaign not yet queued, since the
// sender skips rows that are no longer eligible (store.Recipient.Eligible).

// Unsubscribe ends the subscriptions of an unsubscribe token's recipient to the campaign's
// lists. ip is the client's address ("" when the request came by mail).
func (t *Tracker) Unsubscribe(ctx context.Context, tok, ip string) error {
	signer, err := t.signer(ctx)
	if err != nil {
		return err
	}
	r, err := signer.VerifyUnsubscribe(tok)
	if err != nil || r.Recipient == 0 {
		return ErrUnknownToken
	}
	tg, err := t.lookup(ctx, r)
	if err != nil {
		return err
	}
	if tg.recipient.SubscriberID == 0 {
		return ErrUnknownToken // the subscriber was deleted: nobody left to unsubscribe
	}
	changed, err := t.leave(ctx, tg.recipient.SubscriberID, tg.campaign.ListIDs, ip,
		"unsubscribe link of campaign "+strconv.FormatInt(tg.campaign.ID, 10))
	if err != nil || !changed {
		return err
	}
	e := store.Event{CampaignID: tg.campaign.ID, Kind: store.EventUnsubscribe, LinkIndex: -1, At: t.svc.now()}
	if !tg.campaign.Anonymous {
		e.RecipientID = tg.recipient.ID
		e.IP = t.keepIP(ip)
	}
	return t.events.add(ctx, e)
}

// leave unsubscribes the subscriber from each of lists (Service.leaveLists), with the consent
// record of a web request from ip.
func (t *Tracker) leave(ctx context.Context, subscriberID int64, lists []int64, ip, why string) (bool, error) {
	c := store.Consent{At: t.svc.now(), Source: store.SourceForm, IP: t.consentIP(ip), Text: why}
	n, err := t.svc.leaveLists(ctx, subscriberID, lists, c)
	return n > 0, err
}

// leaveLists unsubscribes the subscriber from each list of lists it has a subscription to that
// is not unsubscribed already, recording c, and counts the subscriptions it changed. Every way
// out of a campaign's lists (the unsubscribe link, the preferences page, mail to the
// List-Unsubscribe address) goes through it.
func (s *Service) leaveLists(ctx context.Context, subscriberID int64, lists []int64, c store.Consent) (int, error) {
	changed := 0
	for _, id := range lists {
		cur, err := s.Store.GetSubscription(ctx, subscriberID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return changed, fmt.Errorf("subscription to list %d: %w", id, err)
		}
		if cur.Status == store.StatusUnsubscribed {
			continue
		}
		if err := s.Store.SetSubscriptionStatus(ctx, subscriberID, id, store.StatusUnsubscribed, c); err != nil &&
			!errors.Is(err, store.ErrNotFound) {
			return changed, fmt.Errorf("unsubscribe from list %d: %w", id, err)
		}
		changed++
	}
	return changed, nil
}

// Preferences is what a preferences page shows: the person and their subscriptions.
type Preferences struct {
	Address       string
	Subscriptions []ListSubscription
}

// ListSubscription is one of a person's subscriptions, with its list's name.
type ListSubscription struct {
	ListID int64
	List   string
	Status store.SubscriptionStatus
}

// Preferences returns the subscriptions of a preferences token's subscriber.
func (t *Tracker) Preferences(ctx context.Context, tok string) (Preferences, error) {
	sub, err := t.preferencesSubscriber(ctx, tok)
	if err != nil {
		return Preferences{}, err
	}
	subs, err := t.svc.Store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return Preferences{}, fmt.Errorf("subscriptions of %d: %w", sub.ID, err)
	}
	p := Preferences{Address: sub.Address}
	for _, s := range subs {
		l, err := t.svc.Store.GetListByID(ctx, s.ListID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return Preferences{}, fmt.Errorf("list %d: %w", s.ListID, err)
		}
		p.Subscriptions = append(p.Subscriptions, ListSubscription{ListID: l.ID, List: l.Name, Status: s.Status})
	}
	return p, nil
}

func (t *Tracker) preferencesSubscriber(ctx context.Context, tok string) (store.Subscriber, error) {
	signer, err := t.signer(ctx)
	if err != nil {
		return store.Subscriber{}, err
	}
	id, err := signer.VerifyPreferences(tok)
	if err != nil {
		return store.Subscriber{}, ErrUnknownToken
	}
	sub, err := t.svc.Store.GetSubscriberByID(ctx, id)
	if err != nil {
		return store.Subscriber{}, unknown("subscriber", err)
	}
	return sub, nil
}

// LeaveList unsubscribes a preferences token's subscriber from one list (idempotent); a list
// the person is not subscribed to is ErrUnknownToken.
func (t *Tracker) LeaveList(ctx context.Context, tok string, listID int64, ip string) error {
	sub, err := t.preferencesSubscriber(ctx, tok)
	if err != nil {
		return err
	}
	if _, err := t.svc.Store.GetSubscription(ctx, sub.ID, listID); err != nil {
		return unknown("subscription", err)
	}
	_, err = t.leave(ctx, sub.ID, []int64{listID}, ip, "preferences page")
	return err
}

// LeaveAll unsubscribes a preferences token's subscriber from every list and adds the
// address to the suppression ledger (reason unsubscribe): no campaign mails it again.
func (t *Tracker) LeaveAll(ctx context.Context, tok, ip string) error {
	sub, err := t.preferencesSubscriber(ctx, tok)
	if err != nil {
		return err
	}
	subs, err := t.svc.Store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return fmt.Errorf("subscriptions of %d: %w", sub.ID, err)
	}
	ids := make([]int64, len(subs))
	for i, s := range subs {
		ids[i] = s.ListID
	}
	if _, err := t.leave(ctx, sub.ID, ids, ip, "preferences page: all lists"); err != nil {
		return err
	}
	return t.svc.Store.AddSuppressions(ctx, []store.Suppression{{Address: sub.Address,
		Reason: store.SuppressUnsubscribe, Source: "preferences page", CreatedAt: t.svc.now()}})
}

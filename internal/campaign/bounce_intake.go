package campaign

// Mail that arrives at the MX for the campaign addresses: bounce+TOKEN@DOMAIN (the VERP sender
// of every campaign message: asynchronous DSNs, and ARF reports of loops that answer the
// envelope sender), unsubscribe+TOKEN@DOMAIN (List-Unsubscribe's mailto, RFC 2369 and RFC 8058
// §3.1) and the abuse address (ARF reports, RFC 5965; complaint.go).
//
// Such mail is never delivered to a mailbox. What it says is applied in the store before
// HandleMessage returns (the MX answers 250 only then); what cannot be used (a forged or
// unknown token, a message that is no report, a report naming nothing we sent) is logged and
// dropped, and HandleMessage returns nil, so the sender is not made to retry for ever. Only a
// failure of the store is an error, which the MX answers with a temporary reply.
//
// A DSN at a VERP address: the token names the campaign and recipient, and decides. The DSN's
// recipients with Action failed are classified (feedback.ParseDSN) and the worst of them (hard
// over soft) is applied to that one ledger row; a Final-Recipient other than the row's address
// (a forwarder, an alias expanded on the way) is logged, the row is still the one bounced. A
// DSN that reports only delays defers the row; one of deliveries, relays or expansions changes
// nothing.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/campaign/feedback"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// Claims reports whether rcpt is an address HandleMessage takes: a bounce+ or unsubscribe+
// address whose token has the form of a token (it is verified when the message arrives), or
// the abuse address. Whether its domain is local is the caller's to check.
func (f *Feedback) Claims(a address.Address) bool {
	if f.AbuseAddress != "" && a.String() == f.AbuseAddress {
		return true
	}
	t, ok := token.ParseAddress(a.String())
	return ok && plausibleToken(t.Token)
}

// plausibleToken reports whether s has the form of a token: lower-case base32 of at least a
// kind byte, two varints and the MAC.
func plausibleToken(s string) bool {
	if len(s) < (1+2+token.MACLen)*8/5 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// HandleMessage takes a message that arrived at the MX for a (an address Claims accepts) and
// applies what it says. It reads at most Limits.MaxMessage of r.
func (f *Feedback) HandleMessage(ctx context.Context, a address.Address, r io.Reader) error {
	if f.AbuseAddress != "" && a.String() == f.AbuseAddress {
		return f.handleARF(ctx, a.String(), r, token.Recipient{})
	}
	t, ok := token.ParseAddress(a.String())
	if !ok {
		f.logger().Info("campaign: feedback for an address that is no campaign's dropped", "rcpt", a.String())
		return nil
	}
	signer, err := f.Service.Signer(ctx)
	if err != nil {
		return err
	}
	switch t.Kind {
	case token.KindUnsubscribe:
		who, err := signer.VerifyUnsubscribe(t.Token)
		if err != nil {
			f.logger().Info("campaign: unsubscribe with an invalid token dropped", "rcpt", a.String())
			return nil
		}
		return f.unsubscribeByMail(ctx, who, a.String())
	case token.KindBounce:
		who, err := signer.VerifyBounce(t.Token)
		if err != nil {
			f.logger().Info("campaign: bounce with an invalid token dropped", "rcpt", a.String())
			return nil
		}
		return f.handleBounce(ctx, who, a.String(), r)
	}
	return nil
}

// handleBounce reads what arrived at the VERP address of who: a DSN, or an ARF report.
func (f *Feedback) handleBounce(ctx context.Context, who token.Recipient, rcpt string, r io.Reader) error {
	parsed, err := feedback.Parse(r, f.Limits)
	if err != nil {
		f.logger().Info("campaign: message at a bounce address is no report, dropped", "rcpt", rcpt, "err", err)
		return nil
	}
	if parsed.ARF != nil {
		return f.applyReport(ctx, parsed.ARF, rcpt, who)
	}
	return f.applyDSN(ctx, who, parsed.DSN)
}

// applyDSN applies a DSN to the ledger row of who.
func (f *Feedback) applyDSN(ctx context.Context, who token.Recipient, dsn *feedback.DSN) error {
	worst, delayed := -1, -1
	for i, r := range dsn.Recipients {
		switch {
		case r.Bounce != feedback.NoBounce && (worst < 0 || r.Bounce > dsn.Recipients[worst].Bounce):
			worst = i
		case r.Action == "delayed" && delayed < 0:
			delayed = i
		}
	}
	if worst < 0 && delayed < 0 {
		f.logger().Info("campaign: DSN reports no failure", "campaign", who.Campaign, "recipient", who.Recipient)
		return nil
	}
	if who.Recipient == 0 {
		// An anonymous campaign's bounce names nobody: it cannot be applied to an address.
		f.logger().Info("campaign: DSN for an anonymous recipient dropped", "campaign", who.Campaign)
		return nil
	}
	rec, anonymous, err := f.ledgerRow(ctx, who.Recipient)
	if errors.Is(err, store.ErrNotFound) {
		f.logger().Info("campaign: DSN for a recipient no longer in the ledger", "campaign", who.Campaign,
			"recipient", who.Recipient)
		return nil
	} else if err != nil {
		return err
	}
	if rec.CampaignID != who.Campaign {
		f.logger().Warn("campaign: DSN token names a recipient of another campaign, dropped", "campaign", who.Campaign,
			"recipient", who.Recipient)
		return nil
	}
	at := f.Service.now()
	if worst < 0 {
		d := dsn.Recipients[delayed]
		return f.deferred(ctx, rec, anonymous, dsnDetail(dsn, d), at)
	}
	d := dsn.Recipients[worst]
	if d.FinalRecipient != "" {
		if fa, err := address.Parse(d.FinalRecipient); err != nil || fa.String() != rec.Address {
			f.logger().Info("campaign: DSN's Final-Recipient differs from the ledger address; the token decides",
				"final_recipient", d.FinalRecipient, "address", rec.Address, "recipient", rec.ID)
		}
	}
	return f.bounced(ctx, rec, anonymous, d.Bounce, dsnDetail(dsn, d), at)
}

// dsnDetail describes one DSN recipient for an event and a suppression's source.
func dsnDetail(dsn *feedback.DSN, r feedback.Recipient) string {
	var parts []string
	if dsn.ReportingMTA != "" {
		parts = append(parts, "DSN from "+dsn.ReportingMTA)
	} else {
		parts = append(parts, "DSN")
	}
	if r.HasStatus {
		parts = append(parts, r.Status.String())
	}
	if r.DiagnosticCode != "" {
		parts = append(parts, r.DiagnosticCode)
	}
	return strings.Join(parts, " ")
}

// unsubscribeByMail ends who's subscriptions to the lists of its campaign: mail to the
// List-Unsubscribe mailto address. Only subscriptions not ended yet change, with one event,
// so a second message changes nothing.
func (f *Feedback) unsubscribeByMail(ctx context.Context, who token.Recipient, rcpt string) error {
	if who.Recipient == 0 {
		f.logger().Info("campaign: unsubscribe by mail for an anonymous recipient dropped", "campaign", who.Campaign)
		return nil
	}
	st := f.Service.Store
	rec, anonymous, err := f.ledgerRow(ctx, who.Recipient)
	if errors.Is(err, store.ErrNotFound) {
		f.logger().Info("campaign: unsubscribe by mail for a recipient no longer in the ledger", "recipient", who.Recipient)
		return nil
	} else if err != nil {
		return err
	}
	if rec.CampaignID != who.Campaign || rec.SubscriberID == 0 {
		f.logger().Info("campaign: unsubscribe by mail names no subscriber, dropped", "campaign", who.Campaign,
			"recipient", who.Recipient)
		return nil
	}
	c, err := st.GetCampaign(ctx, rec.CampaignID)
	if err != nil {
		return fmt.Errorf("campaign %d: %w", rec.CampaignID, err)
	}
	now := f.Service.now()
	consent := store.Consent{At: now, Source: store.SourceForm, Text: "unsubscribed by mail to " + rcpt}
	changed, err := f.Service.leaveLists(ctx, rec.SubscriberID, c.ListIDs, consent)
	if err != nil {
		return err
	}
	if changed == 0 {
		f.logger().Info("campaign: unsubscribe by mail, already unsubscribed", "campaign", c.ID, "recipient", rec.ID)
		return nil
	}
	if err := f.Service.addEvents(ctx, []store.Event{event(rec, anonymous, store.EventUnsubscribe, "mailto", now)}); err != nil {
		return fmt.Errorf("unsubscribe event: %w", err)
	}
	f.logger().Info("campaign: unsubscribed by mail", "campaign", c.ID, "recipient", rec.ID, "lists", changed)
	return nil
}

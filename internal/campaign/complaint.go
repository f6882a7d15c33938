package campaign

// ARF feedback reports (RFC 5965): complaints of the recipients' providers, arriving at the
// abuse address or at the VERP address of the reported message.
//
// The reported message (the report's third part, feedback.ReportedMessage) leads back to the
// campaign and the recipient, first match wins:
//
//  1. its Return-Path, the VERP address bounce+TOKEN@DOMAIN: the Bounce token;
//  2. its List-Unsubscribe field (RFC 2369): the Unsubscribe token of the https URL
//     (PathUnsubscribe) or of the mailto address unsubscribe+TOKEN@DOMAIN;
//  3. for a report that came to a VERP address, that address's token;
//  4. its Feedback-ID ("campaign:list:sender", render.FeedbackID; the campaign by id or name)
//     with the report's Original-Rcpt-To, or the reported message's To: the address is
//     suppressed and the event counts for the campaign naming nobody, since no token names a
//     ledger row.
//
// Tokens are verified; a report that leads nowhere is logged and dropped. Feedback-Type abuse,
// fraud and virus (RFC 5965 §7.3) are complaints: a complaint event and a suppression with
// reason complaint. not-spam (RFC 6650 §2) and other types are logged and change nothing: a
// report that a message is not spam must never harm the address. A message at the abuse
// address that is no feedback report is logged and dropped like any other: the abuse address
// is for providers' loops (fbl@, say), not the abuse@ mailbox people write to (RFC 2142).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/campaign/feedback"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// handleARF reads a report that arrived at rcpt; envelope is the token of the VERP address it
// arrived at, zero for the abuse address.
func (f *Feedback) handleARF(ctx context.Context, rcpt string, r io.Reader, envelope token.Recipient) error {
	rep, err := feedback.ParseARF(r, f.Limits)
	if err != nil {
		f.logger().Info("campaign: message at the abuse address is no feedback report, dropped", "rcpt", rcpt, "err", err)
		return nil
	}
	return f.applyReport(ctx, rep, rcpt, envelope)
}

// isComplaint reports whether a Feedback-Type counts as a complaint.
func isComplaint(feedbackType string) bool {
	switch feedbackType {
	case "abuse", "fraud", "virus":
		return true
	}
	return false
}

// applyReport applies an ARF report.
func (f *Feedback) applyReport(ctx context.Context, rep *feedback.Report, rcpt string, envelope token.Recipient) error {
	log := f.logger().With("rcpt", rcpt, "feedback_type", rep.FeedbackType, "user_agent", rep.UserAgent)
	if !isComplaint(rep.FeedbackType) {
		log.Info("campaign: feedback report that is no complaint, nothing recorded")
		return nil
	}
	signer, err := f.Service.Signer(ctx)
	if err != nil {
		return err
	}
	who, found := reportedRecipient(signer, rep.Message)
	if !found && envelope.Campaign != 0 {
		who, found = envelope, true
	}
	source := "ARF " + rep.FeedbackType + " report"
	if rep.UserAgent != "" {
		source += " (" + rep.UserAgent + ")"
	}
	now := f.Service.now()
	if found && who.Recipient != 0 {
		rec, anonymous, err := f.ledgerRow(ctx, who.Recipient)
		switch {
		case errors.Is(err, store.ErrNotFound):
			log.Info("campaign: complaint for a recipient no longer in the ledger", "recipient", who.Recipient)
			return nil
		case err != nil:
			return err
		case rec.CampaignID != who.Campaign:
			log.Warn("campaign: complaint token names a recipient of another campaign, dropped", "campaign", who.Campaign)
			return nil
		}
		return f.complaint(ctx, rec.CampaignID, event(rec, anonymous, store.EventComplaint, source, now),
			rec.Address, source, now)
	}
	campaignID := who.Campaign
	if !found {
		campaignID = f.campaignOfFeedbackID(ctx, rep.Message)
	}
	addr := reportedAddress(rep)
	if campaignID == 0 || addr == "" {
		log.Info("campaign: complaint that names no campaign recipient, dropped")
		return nil
	}
	if _, err := f.Service.Store.GetCampaign(ctx, campaignID); errors.Is(err, store.ErrNotFound) {
		log.Info("campaign: complaint for an unknown campaign, dropped", "campaign", campaignID)
		return nil
	} else if err != nil {
		return err
	}
	e := store.Event{CampaignID: campaignID, Kind: store.EventComplaint, LinkIndex: -1, Reason: source, At: now}
	return f.complaint(ctx, campaignID, e, addr, source, now)
}

// complaint records a complaint event and suppresses the address.
func (f *Feedback) complaint(ctx context.Context, campaignID int64, e store.Event, addr, source string, now time.Time) error {
	st := f.Service.Store
	sup := store.Suppression{Address: addr, Reason: store.SuppressComplaint,
		Source: sourceText("campaign " + strconv.FormatInt(campaignID, 10) + ": " + source), CreatedAt: now}
	if err := st.AddSuppressions(ctx, []store.Suppression{sup}); err != nil {
		return fmt.Errorf("suppress %s: %w", addr, err)
	}
	e.Reason = sourceText(e.Reason)
	if err := f.Service.addEvents(ctx, []store.Event{e}); err != nil {
		return fmt.Errorf("complaint event: %w", err)
	}
	f.logger().Info("campaign: complaint", "campaign", campaignID, "recipient", e.RecipientID, "address", addr, "source", source)
	return nil
}

// reportedRecipient finds the campaign recipient of a reported message from its tokens:
// Return-Path, then List-Unsubscribe.
func reportedRecipient(signer token.Signer, m *feedback.ReportedMessage) (token.Recipient, bool) {
	if m == nil {
		return token.Recipient{}, false
	}
	if a, ok := token.ParseAddress(m.ReturnPath); ok && a.Kind == token.KindBounce {
		if who, err := signer.VerifyBounce(a.Token); err == nil {
			return who, true
		}
	}
	for _, target := range listUnsubscribeTargets(m.ListUnsubscribe) {
		var tok string
		if mailto, ok := strings.CutPrefix(strings.ToLower(target), "mailto:"); ok {
			mailto, _, _ = strings.Cut(mailto, "?")
			if a, ok := token.ParseAddress(mailto); ok && a.Kind == token.KindUnsubscribe {
				tok = a.Token
			}
		} else if u, err := url.Parse(target); err == nil {
			if t, ok := strings.CutPrefix(u.Path, PathUnsubscribe); ok && !strings.Contains(t, "/") {
				tok = t
			}
		}
		if tok == "" {
			continue
		}
		if who, err := signer.VerifyUnsubscribe(tok); err == nil {
			return who, true
		}
	}
	return token.Recipient{}, false
}

// listUnsubscribeTargets returns the URLs of a List-Unsubscribe value (RFC 2369 §2: a list of
// <URL>, comma-separated).
func listUnsubscribeTargets(v string) []string {
	var out []string
	for {
		start := strings.IndexByte(v, '<')
		if start < 0 {
			return out
		}
		end := strings.IndexByte(v[start:], '>')
		if end < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(v[start+1:start+end]))
		v = v[start+end+1:]
	}
}

// campaignOfFeedbackID finds the campaign a Feedback-ID names (its first identifier: the
// campaign's id, or its name), 0 if none.
func (f *Feedback) campaignOfFeedbackID(ctx context.Context, m *feedback.ReportedMessage) int64 {
	if m == nil || m.FeedbackID == "" {
		return 0
	}
	first, _, _ := strings.Cut(m.FeedbackID, ":")
	first = strings.TrimSpace(first)
	if id, err := strconv.ParseInt(first, 10, 64); err == nil && id > 0 {
		return id
	}
	all, err := f.Service.Store.ListCampaigns(ctx)
	if err != nil {
		f.logger().Warn("campaign: list campaigns for a Feedback-ID", "err", err)
		return 0
	}
	for _, c := range all {
		if c.Name == first || feedbackIDPart(c.Name) == first {
			return c.ID
		}
	}
	return 0
}

// feedbackIDPart is a name as render.FeedbackID writes it: colons, spaces, control characters
// and non-ASCII as hyphens.
func feedbackIDPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ':' || r <= ' ' || r == 0x7f || r >= 0x80 {
			return '-'
		}
		return r
	}, s)
}

// reportedAddress is the recipient of the reported message: the report's Original-Rcpt-To
// (RFC 5965 §3.2), else the reported message's To; "" when neither is one address.
func reportedAddress(rep *feedback.Report) string {
	candidates := rep.OriginalRcptTo
	if len(candidates) == 0 && rep.Message != nil {
		candidates = []string{rep.Message.To}
	}
	if len(candidates) != 1 {
		return ""
	}
	s := strings.TrimSpace(candidates[0])
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = strings.TrimSuffix(s[i+1:], ">")
	}
	a, err := address.Parse(s)
	if err != nil {
		return ""
	}
	return a.String()
}

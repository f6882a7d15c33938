package campaign

// The feedback loop: what the queue learns of each delivery attempt of campaign mail, and what
// comes back to the MX (bounce.go, bounce_intake.go, complaint.go).
//
// Each outcome lands on one send-ledger row, found by its id (the queue row's
// CampaignRecipient, or the recipient of a verified token), and is applied in the store as
// separate small writes, each of which may be repeated without harm:
//
//   - delivered: the row is delivered, a delivered event is added and the address's soft
//     bounces are forgotten (a delivery ends a run of soft bounces);
//   - deferred (a 4xx reply, a DSN with Action delayed): the row is deferred, a deferred event;
//   - failed permanently (a 5xx reply, the queue's expiry, a DSN with Action failed):
//     classified hard or soft by feedback.ClassifyReply or the DSN's status (feedback's table).
//     A hard bounce suppresses the address at once (reason hard_bounce); a soft one counts
//     towards store.SoftBounceLimit soft bounces in a row, the last of which suppresses it
//     (reason soft_bounces, in the store's transaction). Either way the row is bounced and a
//     bounce event carries the classification and the reply in its reason;
//   - a complaint (an ARF report of type abuse, fraud or virus): a complaint event and a
//     suppression (reason complaint); the row keeps its state;
//   - an unsubscribe by mail (unsubscribe+TOKEN@): every subscription of the subscriber to the
//     campaign's lists is ended, once, with one unsubscribe event.
//
// The suppression source names the campaign and recipient and the reply or report, so that the
// operator sees why (`posthorn suppression list`). Events of an anonymous campaign name
// nobody (recipient 0), though the ledger row and the suppression are still the address's.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/campaign/feedback"
	"posthorn/internal/store"
)

// Feedback applies what the queue and the MX learn about campaign mail to the send ledger, the
// events and the suppression ledger. Its zero Logger discards.
type Feedback struct {
	Service *Service
	Logger  *slog.Logger
	// AbuseAddress is where ARF reports arrive besides the VERP addresses (config
	// [campaign] abuse_address), normalised; "" for none.
	AbuseAddress string
	// Limits bound the reading of a message that arrives at the MX.
	Limits feedback.Limits
}

func (f *Feedback) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// OutcomeKind is what one delivery attempt came to, as the queue reports it.
type OutcomeKind int

// The kinds of outcome.
const (
	OutcomeDelivered OutcomeKind = iota + 1
	OutcomeDeferred
	// OutcomeFailed is a permanent failure: a 5xx reply, or the queue's lifetime expired.
	OutcomeFailed
)

// Outcome is the result of one delivery attempt of a campaign message.
type Outcome struct {
	Kind      OutcomeKind
	Code      int    // SMTP reply code; 0 when the failure was no reply
	Enhanced  string // RFC 3463 enhanced status code, "" if none
	Text      string // the reply line or what went wrong
	RemoteMTA string
	At        time.Time // zero: now
}

// QueueOutcome applies the outcome of one attempt of the queue row q (q.CampaignRecipient is
// its ledger row). A row gone with its campaign is logged and ignored; the error is the
// store's.
func (f *Feedback) QueueOutcome(ctx context.Context, q store.QueuedMessage, o Outcome) error {
	at := o.At
	if at.IsZero() {
		at = f.Service.now()
	}
	rec, anonymous, err := f.ledgerRow(ctx, q.CampaignRecipient)
	if errors.Is(err, store.ErrNotFound) {
		f.logger().Info("campaign: outcome for a recipient no longer in the ledger", "recipient", q.CampaignRecipient,
			"rcpt", q.Recipient, "outcome", o.Kind)
		return nil
	} else if err != nil {
		return err
	}
	reply := replyText(o.Code, o.Enhanced, o.Text)
	switch o.Kind {
	case OutcomeDelivered:
		return f.delivered(ctx, rec, anonymous, at)
	case OutcomeDeferred:
		return f.deferred(ctx, rec, anonymous, reply, at)
	case OutcomeFailed:
		b := classifyFailure(o.Code, o.Enhanced)
		return f.bounced(ctx, rec, anonymous, b, reply, at)
	}
	return fmt.Errorf("campaign outcome: unknown kind %d", o.Kind)
}

// classifyFailure classifies a permanent failure: by its reply (feedback.ClassifyReply), by
// its enhanced code alone when the failure was no reply (a null MX), and as soft when neither
// says it is a bounce (a failure that says nothing should not suppress at once).
func classifyFailure(code int, enhanced string) feedback.Bounce {
	var b feedback.Bounce
	if code != 0 {
		b = feedback.ClassifyReply(code, enhanced)
	} else if st, ok := feedback.ParseStatus(enhanced); ok {
		b = feedback.ClassifyStatus(st)
	}
	if b == feedback.NoBounce {
		b = feedback.SoftBounce
	}
	return b
}

// ledgerRow reads a ledger row and whether its campaign is anonymous.
func (f *Feedback) ledgerRow(ctx context.Context, id int64) (store.Recipient, bool, error) {
	rec, err := f.Service.Store.GetRecipient(ctx, id)
	if err != nil {
		return store.Recipient{}, false, fmt.Errorf("ledger row %d: %w", id, err)
	}
	c, err := f.Service.Store.GetCampaign(ctx, rec.CampaignID)
	if err != nil {
		return store.Recipient{}, false, fmt.Errorf("campaign %d: %w", rec.CampaignID, err)
	}
	return rec, c.Anonymous, nil
}

// event is an event of the ledger row rec: naming it, unless the campaign is anonymous.
func event(rec store.Recipient, anonymous bool, kind store.EventKind, reason string, at time.Time) store.Event {
	e := store.Event{CampaignID: rec.CampaignID, RecipientID: rec.ID, Kind: kind, LinkIndex: -1, Reason: reason, At: at}
	if anonymous {
		e.RecipientID = 0
	}
	return e
}

func (f *Feedback) delivered(ctx context.Context, rec store.Recipient, anonymous bool, at time.Time) error {
	e := event(rec, anonymous, store.EventDelivered, "", at)
	if err := f.Service.Store.RecordDelivered(ctx, rec, e); err != nil {
		return err
	}
	f.Service.Metrics.recorded([]store.Event{e})
	return nil
}

func (f *Feedback) deferred(ctx context.Context, rec store.Recipient, anonymous bool, reply string, at time.Time) error {
	st := f.Service.Store
	// A row already settled (a DSN of delay arriving after the delivery) keeps its state.
	if rec.State == store.RecipientQueued || rec.State == store.RecipientDeferred {
		if err := st.SetRecipientState(ctx, rec.ID, store.RecipientDeferred); err != nil {
			return fmt.Errorf("mark deferred: %w", err)
		}
	}
	if err := f.Service.addEvents(ctx, []store.Event{event(rec, anonymous, store.EventDeferred, reply, at)}); err != nil {
		return fmt.Errorf("deferred event: %w", err)
	}
	return nil
}

// bounced applies a bounce of classification b to the ledger row rec; detail is the reply or
// the DSN's status and diagnostic, for the event and the suppression's source.
func (f *Feedback) bounced(ctx context.Context, rec store.Recipient, anonymous bool, b feedback.Bounce, detail string, at time.Time) error {
	st := f.Service.Store
	source := sourceText(fmt.Sprintf("campaign %d recipient %d: %s", rec.CampaignID, rec.ID, detail))
	reason := b.String() + ": " + detail
	switch b {
	case feedback.HardBounce:
		sup := store.Suppression{Address: rec.Address, Reason: store.SuppressHardBounce, Source: source, CreatedAt: at}
		if err := st.AddSuppressions(ctx, []store.Suppression{sup}); err != nil {
			return fmt.Errorf("suppress %s: %w", rec.Address, err)
		}
	default:
		suppressed, err := st.RecordSoftBounce(ctx, rec.ID, rec.Address, source, at)
		if err != nil {
			return fmt.Errorf("soft bounce of %s: %w", rec.Address, err)
		}
		if suppressed {
			reason += " (" + strconv.Itoa(store.SoftBounceLimit) + " soft bounces in a row: suppressed)"
		}
	}
	if err := st.SetRecipientState(ctx, rec.ID, store.RecipientBounced); err != nil {
		return fmt.Errorf("mark bounced: %w", err)
	}
	if err := f.Service.addEvents(ctx, []store.Event{event(rec, anonymous, store.EventBounce, sourceText(reason), at)}); err != nil {
		return fmt.Errorf("bounce event: %w", err)
	}
	f.logger().Info("campaign: bounce", "campaign", rec.CampaignID, "recipient", rec.ID, "rcpt", rec.Address,
		"bounce", b.String(), "detail", detail)
	return nil
}

// replyText renders a reply as "550 5.1.1 text", leaving out what is missing and the codes the
// text starts with already.
func replyText(code int, enhanced, text string) string {
	text = strings.Join(strings.Fields(text), " ")
	var prefix []string
	if code != 0 && !strings.HasPrefix(text, strconv.Itoa(code)) {
		prefix = append(prefix, strconv.Itoa(code))
	}
	if enhanced != "" && !strings.Contains(text, enhanced) {
		prefix = append(prefix, enhanced)
	}
	return strings.TrimSpace(strings.Join(append(prefix, text), " "))
}

// maxSourceText bounds what a suppression's source or an event's reason keeps of a reply.
const maxSourceText = 300

// sourceText makes s one line of printable characters of at most maxSourceText bytes: a
// remote server's reply is not ours to trust.
func sourceText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxSourceText {
		cut := maxSourceText
		for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut]
	}
	return s
}

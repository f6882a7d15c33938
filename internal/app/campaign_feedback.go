package app

import (
	"context"
	"io"
	"log/slog"

	"posthorn/internal/address"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/queue"
	"posthorn/internal/smtpserver"
	"posthorn/internal/store"
)

// campaignFeedback is bulk mail's feedback loop over the data (campaign.Feedback): what the
// queue and the MX learn about campaign mail, applied to the send ledger, the events and the
// suppressions. nil when the store keeps no campaigns.
func campaignFeedback(cfg config.Config, data *Data, logger *slog.Logger, m *campaign.Metrics) *campaign.Feedback {
	cs, ok := data.Store.(store.CampaignStore)
	if !ok {
		return nil
	}
	abuse := ""
	if cfg.Campaign.AbuseAddress != "" {
		if a, err := address.Parse(cfg.Campaign.AbuseAddress); err == nil { // validated with the config
			abuse = a.String()
		}
	}
	return &campaign.Feedback{Service: &campaign.Service{Store: cs, Metrics: m}, Logger: logger.With("component", "campaign"),
		AbuseAddress: abuse}
}

// feedbackIntake is the campaign feedback as the MX's special recipients.
type feedbackIntake struct{ *campaign.Feedback }

func (f feedbackIntake) Deliver(ctx context.Context, rcpt address.Address, r io.Reader) error {
	return f.HandleMessage(ctx, rcpt, r)
}

// specialRecipients are the MX's special recipients (smtpserver.Server.SpecialRecipients):
// the campaign's VERP, mailto unsubscribe and abuse addresses.
func specialRecipients(cfg config.Config, data *Data, logger *slog.Logger, m *campaign.Metrics) smtpserver.SpecialRecipients {
	fb := campaignFeedback(cfg, data, logger, m)
	if fb == nil {
		return nil
	}
	return feedbackIntake{fb}
}

// queueOutcomes is the queue's hook of campaign rows (queue.Scheduler.Outcomes): each attempt
// goes to the campaign's ledger. A failure to record one is logged; the mail log keeps the
// attempt either way.
func queueOutcomes(cfg config.Config, data *Data, logger *slog.Logger, m *campaign.Metrics) func(context.Context, store.QueuedMessage, queue.Outcome) {
	fb := campaignFeedback(cfg, data, logger, m)
	if fb == nil {
		return nil
	}
	return func(ctx context.Context, q store.QueuedMessage, o queue.Outcome) {
		out := campaign.Outcome{Code: o.Code, Enhanced: o.Enhanced, Text: o.Text, RemoteMTA: o.RemoteMTA, At: o.At}
		switch o.Kind {
		case queue.Delivered:
			out.Kind = campaign.OutcomeDelivered
		case queue.Deferred:
			out.Kind = campaign.OutcomeDeferred
		default: // failed, expired: a permanent failure, classified by its reply
			out.Kind = campaign.OutcomeFailed
		}
		if err := fb.QueueOutcome(ctx, q, out); err != nil {
			fb.Logger.Error("campaign: record the queue's outcome", "recipient", q.CampaignRecipient,
				"rcpt", q.Recipient, "outcome", o.Kind, "err", err)
		}
	}
}

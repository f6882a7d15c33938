package app

import (
	"context"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// startCampaignWebhooks starts the delivery of campaign events to the webhooks of
// [[campaign.webhooks]] (campaign.WebhookDispatcher: signed batches after a durable cursor,
// retried with backoff). Nothing runs without webhooks, or on a store without campaigns.
func (s *Server) startCampaignWebhooks() {
	ws, ok := s.data.Store.(store.CampaignWebhookStore)
	if !ok || len(s.cfg.Campaign.Webhooks) == 0 {
		return
	}
	hooks := make([]campaign.Webhook, len(s.cfg.Campaign.Webhooks))
	for i, h := range s.cfg.Campaign.Webhooks {
		hooks[i] = campaign.Webhook{URL: h.URL, Secret: h.Secret}
		for _, e := range h.Events {
			hooks[i].Events = append(hooks[i].Events, store.EventKind(e))
		}
	}
	d := &campaign.WebhookDispatcher{Store: ws, Hooks: hooks, Logger: s.logger.With("component", "campaign-webhooks")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	s.stopCampaignWebhooks = func() {
		cancel()
		<-done
	}
}

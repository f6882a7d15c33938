package app

import (
	"fmt"
	"log/slog"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/web/api"
)

// apiRoutes builds the JSON API (internal/web/api) over the store's operations and returns
// its routes for the HTTP listener. Campaigns it starts are sent by the server's send loop
// (campaign_sender.go), which finds them within its poll interval.
func apiRoutes(cfg config.Config, st store.Store, committer *delivery.Committer, logger *slog.Logger) (web.Routes, error) {
	cs, ok := st.(store.CampaignStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no campaigns")
	}
	outboxStore, ok := st.(campaign.OutboxStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no DKIM keys")
	}
	service := &campaign.Service{Store: cs}
	logger = logger.With("component", "api")
	a := api.New(api.Config{
		Tokens:    &admin.Tokens{Store: st},
		Campaigns: service,
		Sender: &campaign.Sender{Service: service, Outbox: &campaign.Outbox{Store: outboxStore, Committer: committer},
			PublicURL: cfg.Campaign.PublicURL, Logger: logger},
		Logger: logger,
	})
	return a.Routes(), nil
}

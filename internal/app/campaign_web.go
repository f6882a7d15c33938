package app

import (
	"fmt"
	"log/slog"

	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/web"
)

// campaignRoutes builds the campaign Tracker of the public bulk mail endpoints from
// [campaign] and returns their routes for the HTTP listener; s.stopTracker records the
// events it still buffers, at shutdown once the HTTP server has stopped. Confirmation mails
// of double opt-in lists go through the campaign Outbox from postmaster@ the local domain
// added first.
func (s *Server) campaignRoutes(cfg config.Config, st store.Store, committer *delivery.Committer, logger *slog.Logger) (web.Routes, error) {
	cs, ok := st.(store.CampaignStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no campaigns")
	}
	outboxStore, ok := st.(campaign.OutboxStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no DKIM keys")
	}
	logger = logger.With("component", "campaign-web")
	tracker := campaign.NewTracker(&campaign.Service{Store: cs, Metrics: s.campaignMetrics}, campaign.TrackerConfig{
		Campaign: cfg.Campaign,
		Outbox:   &campaign.Outbox{Store: outboxStore, Committer: committer},
		Logger:   logger,
	})
	s.stopTracker = tracker.Close
	return web.CampaignRoutes(tracker, logger), nil
}

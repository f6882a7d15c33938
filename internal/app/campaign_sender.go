package app

import (
	"context"
	"errors"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// startCampaignSender starts the loop that sends running campaigns (and starts scheduled ones
// when their time comes), through the server's committer: DKIM-signed, queued at bulk priority
// with their send-ledger rows. A campaign interrupted by a crash resumes at its first pending
// row. A store without campaigns runs none.
func (s *Server) startCampaignSender() error {
	cs, ok := s.data.Store.(store.CampaignStore)
	if !ok {
		return nil
	}
	obs, ok := s.data.Store.(campaign.OutboxStore)
	if !ok {
		return errors.New("campaign: the store keeps no DKIM keys")
	}
	sender := &campaign.Sender{
		Service:   &campaign.Service{Store: cs, Metrics: s.campaignMetrics},
		Outbox:    &campaign.Outbox{Store: obs, Committer: s.committer},
		PublicURL: s.cfg.Campaign.PublicURL,
		Logger:    s.logger.With("component", "campaign-sender"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sender.Run(ctx)
	}()
	// Shutdown: the loop finishes the messages in hand, then returns.
	s.stopCampaignSender = func() {
		cancel()
		<-done
	}
	return nil
}

package postgres

import (
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

type campaignBackend struct {
	store.Store
	store.QueueStore
	store.CampaignStore
}

type webhookBackend struct {
	campaignBackend
	store.CampaignWebhookStore
}

type statsBackend struct {
	store.Store
	store.MailEventStore
	store.CampaignStore
	store.StatsStore
}

func TestCampaignConformance(t *testing.T) {
	storetest.RunCampaign(t, func(t *testing.T) storetest.CampaignBackend {
		s := openStore(t)
		return campaignBackend{core(s), s, s}
	})
}

func TestCampaignWebhookConformance(t *testing.T) {
	storetest.RunCampaignWebhooks(t, func(t *testing.T) storetest.WebhookBackend {
		s := openStore(t)
		return webhookBackend{campaignBackend{core(s), s, s}, s}
	})
}

func TestStatsConformance(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend {
		s := openStore(t)
		return statsBackend{core(s), s, s, s}
	})
}

package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestCampaignConformance(t *testing.T) {
	storetest.RunCampaign(t, func(t *testing.T) storetest.CampaignBackend {
		return openStore(t)
	})
}

func TestCampaignWebhookConformance(t *testing.T) {
	storetest.RunCampaignWebhooks(t, func(t *testing.T) storetest.WebhookBackend {
		return openStore(t)
	})
}

func TestStatsConformance(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend {
		return openStore(t)
	})
}

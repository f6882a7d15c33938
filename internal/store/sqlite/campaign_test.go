package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestCampaignConformance(t *testing.T) {
	storetest.RunCampaign(t, func(t *testing.T) storetest.CampaignBackend {
		s, _ := openTemp(t)
		return s
	})
}

func TestCampaignWebhookConformance(t *testing.T) {
	storetest.RunCampaignWebhooks(t, func(t *testing.T) storetest.WebhookBackend {
		s, _ := openTemp(t)
		return s
	})
}

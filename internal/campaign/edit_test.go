package campaign

import (
	"testing"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// TestUpdateAndDeleteCampaign: a draft is replaced whole, checked as a new one is; a campaign
// past draft is not changed; a running campaign is not deleted until cancelled, and a deleted
// one is gone with its ledger.
func TestUpdateAndDeleteCampaign(t *testing.T) {
	e := newSendEnv(t)
	ctx := t.Context()
	mustList(t, e.svc, "news", "")
	mustList(t, e.svc, "other", "")
	e.subscribe(t, "ann@example.net", "news", nil)
	if _, err := e.svc.CreateTemplate(ctx, TemplateInput{Name: "t", Subject: "From the template", Text: "body"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateCampaign(ctx, CampaignInput{Name: "June", From: "news@example.org", Lists: []string{"news"},
		Subject: "Hi", Text: "Hello", Tracking: true})
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.svc.UpdateCampaign(ctx, c.ID, CampaignInput{Name: "July", From: "News <news@example.org>",
		Lists: []string{"news", "other"}, Template: "t", RatePerMinute: 10})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != c.ID || got.Name != "July" || got.Subject != "From the template" || got.Text != "body" || len(got.ListIDs) != 2 ||
		got.RatePerMinute != 10 || got.Tracking || got.Status != store.CampaignDraft {
		t.Fatalf("updated = %+v", got)
	}
	if _, err := e.svc.UpdateCampaign(ctx, c.ID, CampaignInput{Name: "x", From: "news@example.net", Lists: []string{"news"},
		Subject: "s", Text: "t"}); !isOp(err, operr.Invalid, "from") {
		t.Errorf("update with a foreign From: %v", err)
	}
	if _, err := e.svc.UpdateCampaign(ctx, 999, CampaignInput{Name: "x"}); !isOp(err, operr.NotFound, "campaign") {
		t.Errorf("update of an unknown campaign: %v", err)
	}

	if _, err := e.sender.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateCampaign(ctx, c.ID, CampaignInput{Name: "x", From: "news@example.org", Lists: []string{"news"},
		Subject: "s", Text: "t"}); !isOp(err, operr.Invalid, "status") {
		t.Errorf("update of a running campaign: %v", err)
	}
	if err := e.svc.DeleteCampaign(ctx, c.ID); !isOp(err, operr.InUse, "status") {
		t.Errorf("delete of a running campaign: %v", err)
	}
	if err := e.svc.Cancel(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteCampaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Campaign(ctx, c.ID); !isOp(err, operr.NotFound, "campaign") {
		t.Errorf("deleted campaign: %v", err)
	}
	if err := e.svc.DeleteCampaign(ctx, c.ID); !isOp(err, operr.NotFound, "campaign") {
		t.Errorf("delete again: %v", err)
	}
}

package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/campaign/token"
	"posthorn/internal/config"
	"posthorn/internal/queue"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// TestCampaignFeedbackWiring: the queue's hook and the MX's special recipients built from the
// configuration reach the campaign ledger: a failed attempt bounces and suppresses, the
// configured abuse address and the VERP addresses are claimed, ordinary ones are not.
func TestCampaignFeedbackWiring(t *testing.T) {
	env := storeenv.New(t)
	ctx := t.Context()
	st := env.Store
	l, err := st.CreateList(ctx, store.List{Name: "news", OptIn: store.OptInSingle})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SubscribeToList(ctx, l.ID, []store.SubscribeRequest{{Subscriber: store.Subscriber{Address: "carol@remote.example"},
		Status: store.StatusConfirmed, Consent: store.Consent{At: time.Now(), Source: store.SourceCLI}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "s", Text: "t", From: "news@example.org", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := st.StreamRecipients(ctx, c.ID, 0, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("ledger %v, %v", rows, err)
	}
	cfg := config.Default()
	cfg.Campaign.AbuseAddress = "FBL@example.org"
	data := &Data{Store: st}

	hook := queueOutcomes(cfg, data, env.Logger, nil)
	hook(context.Background(), store.QueuedMessage{Outbound: store.Outbound{Recipient: "carol@remote.example",
		CampaignRecipient: rows[0].ID}}, queue.Outcome{Kind: queue.Failed, Code: 550, Enhanced: "5.1.1", Text: "550 5.1.1 unknown", At: time.Now()})
	sup, ok, err := st.IsSuppressed(ctx, "carol@remote.example", time.Now())
	if err != nil || !ok || sup.Reason != store.SuppressHardBounce || !strings.Contains(sup.Source, "5.1.1") {
		t.Errorf("suppression %+v %v %v", sup, ok, err)
	}
	if r, _ := st.GetRecipient(ctx, rows[0].ID); r.State != store.RecipientBounced {
		t.Errorf("row %s, want bounced", r.State)
	}

	special := specialRecipients(cfg, data, env.Logger, nil)
	key, err := st.CampaignKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	verp := token.BounceAddress(token.Signer{Key: key}.SignBounce(token.Recipient{Campaign: c.ID, Recipient: rows[0].ID}), "example.org")
	for rcpt, want := range map[string]bool{"fbl@example.org": true, verp: true, "alice@example.org": false, "bounce+x@example.org": false} {
		a, err := address.Parse(rcpt)
		if err != nil {
			t.Fatal(err)
		}
		if got := special.Claims(a); got != want {
			t.Errorf("Claims(%s) = %v, want %v", rcpt, got, want)
		}
	}
}

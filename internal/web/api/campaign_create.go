package api

import (
	"context"
	"net/http"
	"time"

	"posthorn/internal/campaign"
)

// campaignInput is the body of POST /api/v1/campaigns, the flags of `posthorn campaign
// create`: the content comes from template (copied: later edits of the template do not
// change the campaign) or from subject, html and text. Tracking is on unless "tracking":
// false.
type campaignInput struct {
	Name          string   `json:"name"`
	From          string   `json:"from"`
	ReplyTo       string   `json:"reply_to"`
	Lists         []string `json:"lists"`
	Template      string   `json:"template"`
	Subject       string   `json:"subject"`
	HTML          string   `json:"html"`
	Text          string   `json:"text"`
	RatePerMinute int      `json:"rate_per_minute"`
	Tracking      *bool    `json:"tracking"`
	Anonymous     bool     `json:"anonymous"`
}

func (in campaignInput) operation() campaign.CampaignInput {
	return campaign.CampaignInput{Name: in.Name, Template: in.Template, Subject: in.Subject, HTML: in.HTML, Text: in.Text,
		From: in.From, ReplyTo: in.ReplyTo, Lists: in.Lists, RatePerMinute: in.RatePerMinute,
		Tracking: in.Tracking == nil || *in.Tracking, Anonymous: in.Anonymous}
}

// createCampaign adds a draft campaign and answers it.
func createCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	var in campaignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.cfg.Campaigns.CreateCampaign(r.Context(), in.operation())
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusCreated, viewCampaign(c))
	return nil
}

// updateCampaign replaces a draft campaign whole with the body (that of POST
// /api/v1/campaigns); a campaign past draft is 400 for field status.
func updateCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in campaignInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.cfg.Campaigns.UpdateCampaign(r.Context(), id, in.operation())
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewCampaign(c))
	return nil
}

// removeCampaign deletes a campaign with its ledger and statistics; one scheduled, running
// or paused is 409 (cancel it first).
func removeCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Campaigns.DeleteCampaign(r.Context(), id))
}

// testInput is the body of POST /api/v1/campaigns/{id}/test.
type testInput struct {
	Addresses []string `json:"addresses"`
}

// maxTestAddresses bounds the addresses of one test send.
const maxTestAddresses = 50

type testResultView struct {
	Address string `json:"address"`
	Sent    bool   `json:"sent"`
	Reason  string `json:"reason,omitempty"`
}

// testCampaign is `posthorn campaign test ID ADDRESS...`: the campaign goes to each address
// with "[test] " before its subject, untracked and not counted; a suppressed address gets
// nothing, and the answer says why.
func testCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in testInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if len(in.Addresses) == 0 || len(in.Addresses) > maxTestAddresses {
		return invalid("addresses", "addresses: want from 1 to %d addresses", maxTestAddresses)
	}
	results, err := a.cfg.Sender.TestSend(r.Context(), id, in.Addresses)
	if err != nil {
		return err
	}
	out := struct {
		Results []testResultView `json:"results"`
	}{Results: make([]testResultView, 0, len(results))}
	for _, res := range results {
		out.Results = append(out.Results, testResultView{Address: res.Address, Sent: res.Sent, Reason: res.Reason})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// scheduleInput is the body of POST /api/v1/campaigns/{id}/schedule.
type scheduleInput struct {
	At string `json:"at"`
}

// scheduleCampaign is `posthorn campaign start ID --at TIME`: a draft is checked against its
// audience now and started by the send loop at the time given (RFC 3339).
func scheduleCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	if _, err := pathID(r); err != nil {
		return err
	}
	var in scheduleInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	at, err := time.Parse(time.RFC3339, in.At)
	if err != nil {
		return invalid("at", "at %q: want an RFC 3339 time like 2026-06-01T09:00:00Z", in.At)
	}
	return campaignAction(a, w, r, func(ctx context.Context, id int64) error {
		return a.cfg.Sender.Schedule(ctx, id, at)
	})
}

package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// campaignView is a campaign as the API shows it (its content aside).
type campaignView struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Status        string     `json:"status"`
	Subject       string     `json:"subject"`
	From          string     `json:"from"`
	ReplyTo       string     `json:"reply_to,omitempty"`
	TemplateID    int64      `json:"template_id,omitempty"`
	ListIDs       []int64    `json:"list_ids"`
	RatePerMinute int        `json:"rate_per_minute"`
	Tracking      bool       `json:"tracking"`
	Anonymous     bool       `json:"anonymous"`
	ScheduledAt   *time.Time `json:"scheduled_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
}

// timeOrNil is t in UTC, or nil when zero (the field is left out).
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func viewCampaign(c store.Campaign) campaignView {
	lists := c.ListIDs
	if lists == nil {
		lists = []int64{}
	}
	return campaignView{ID: c.ID, Name: c.Name, Status: string(c.Status), Subject: c.Subject, From: c.From,
		ReplyTo: c.ReplyTo, TemplateID: c.TemplateID, ListIDs: lists, RatePerMinute: c.RatePerMinute,
		Tracking: c.Tracking, Anonymous: c.Anonymous, ScheduledAt: timeOrNil(c.ScheduledAt),
		CreatedAt: c.CreatedAt.UTC(), StartedAt: timeOrNil(c.StartedAt), FinishedAt: timeOrNil(c.FinishedAt)}
}

// pathID reads the path value {id}: a positive number, or invalid for field "id".
func pathID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("id", "id %q: want a positive number", s)
	}
	return id, nil
}

func listCampaigns(a *API, w http.ResponseWriter, r *http.Request) error {
	cs, err := a.cfg.Campaigns.Campaigns(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Campaigns []campaignView `json:"campaigns"`
	}{Campaigns: make([]campaignView, 0, len(cs))}
	for _, c := range cs {
		out.Campaigns = append(out.Campaigns, viewCampaign(c))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func getCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	return campaignAction(a, w, r, nil)
}

// campaignAction runs act on the campaign {id}, then answers the campaign as it is after.
func campaignAction(a *API, w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id int64) error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if act != nil {
		if err := act(r.Context(), id); err != nil {
			return err
		}
	}
	c, err := a.cfg.Campaigns.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewCampaign(c))
	return nil
}

// startCampaign answers the campaign with the number of recipients of its send ledger.
func startCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := a.cfg.Sender.Start(r.Context(), id)
	if err != nil {
		return err
	}
	c, err := a.cfg.Campaigns.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, struct {
		campaignView
		Recipients int64 `json:"recipients"`
	}{viewCampaign(c), n})
	return nil
}

func pauseCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	return campaignAction(a, w, r, a.cfg.Campaigns.Pause)
}

func resumeCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	return campaignAction(a, w, r, a.cfg.Campaigns.Resume)
}

func cancelCampaign(a *API, w http.ResponseWriter, r *http.Request) error {
	return campaignAction(a, w, r, a.cfg.Campaigns.Cancel)
}

// campaignStats answers what `posthorn campaign stats ID --json` prints.
func campaignStats(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := a.cfg.Campaigns.Stats(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return campaign.WriteStatsJSON(w, st)
}

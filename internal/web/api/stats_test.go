package api

import (
	"net/http"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/store"
)

// TestStatsRoute: the hours of the window with the mail log's and the campaigns' events
// counted where they happened.
func TestStatsRoute(t *testing.T) {
	e := newAPIEnv(t)
	e.addMailEvents() // 08:00 received, 08:01 rejected unknown-user
	c, err := e.Store.CreateCampaign(t.Context(), store.Campaign{Name: "June"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	if err := e.Store.AddEvents(t.Context(), []store.Event{
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, At: at},
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, Machine: true, Reason: "proxy", At: at},
		{CampaignID: c.ID, Kind: store.EventClick, LinkIndex: 1, At: at.Add(time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	var st admin.Stats
	e.decode(e.call("GET", "/api/v1/stats?hours=2", nil, http.StatusOK), &st)
	if st.Hours != 2 || len(st.Series) != 2 || !st.Since.Equal(at.Add(-time.Hour)) || !st.Until.Equal(at.Add(time.Hour)) {
		t.Fatalf("window: %d hours %v to %v, %d entries", st.Hours, st.Since, st.Until, len(st.Series))
	}
	h8, h9 := st.Series[0], st.Series[1]
	if h8.In != 1 || h8.InCopies != 1 || h8.Rejected["unknown-user"] != 1 || h8.Campaign.Opens.Total() != 0 {
		t.Errorf("08:00: %+v", h8)
	}
	if h9.In != 0 || len(h9.Rejected) != 0 || h9.Campaign.Opens.Human != 1 || h9.Campaign.Opens.Machine != 1 ||
		h9.Campaign.Clicks.Human != 1 {
		t.Errorf("09:00: %+v", h9)
	}
	if len(st.Reasons) != 1 || st.Reasons[0] != "unknown-user" || st.Totals.In != 1 || st.Queue.Total != 0 {
		t.Errorf("reasons %v, totals %+v, queue %+v", st.Reasons, st.Totals, st.Queue)
	}
	// The default window is a day.
	e.decode(e.call("GET", "/api/v1/stats", nil, http.StatusOK), &st)
	if st.Hours != 24 || len(st.Series) != 24 || st.Totals.In != 1 {
		t.Errorf("default window: %d hours, %d entries, %d in", st.Hours, len(st.Series), st.Totals.In)
	}
}

func TestStatsRouteErrors(t *testing.T) {
	e := newAPIEnv(t)
	for _, q := range []string{"0", "721", "day", "-1"} {
		r := e.do("GET", "/api/v1/stats?hours="+q, e.admin, "", nil)
		var body struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		e.decode(r, &body)
		if r.status != http.StatusBadRequest || body.Error.Code != "invalid" || body.Error.Field != "hours" || body.Error.Message == "" {
			t.Errorf("hours=%s: %d %+v", q, r.status, body.Error)
		}
	}
	for token, want := range map[string]int{"": http.StatusUnauthorized, e.account: http.StatusForbidden} {
		if r := e.do("GET", "/api/v1/stats", token, "", nil); r.status != want {
			t.Errorf("token %q: status %d, want %d", token, r.status, want)
		}
	}
}

package api

import (
	"net/http"
	"strconv"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// Page sizes of the listings.
const (
	defaultPage = 100
	maxPage     = 1000
)

type listView struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	OptIn       string     `json:"opt_in"`
	CreatedAt   time.Time  `json:"created_at"`
	Counts      listCounts `json:"counts"`
}

// listCounts are a list's subscriptions by status.
type listCounts struct {
	Confirmed    int64 `json:"confirmed"`
	Unconfirmed  int64 `json:"unconfirmed"`
	Unsubscribed int64 `json:"unsubscribed"`
}

func viewList(l store.List, counts map[store.SubscriptionStatus]int64) listView {
	return listView{ID: l.ID, Name: l.Name, Description: l.Description, OptIn: string(l.OptIn), CreatedAt: l.CreatedAt.UTC(),
		Counts: listCounts{Confirmed: counts[store.StatusConfirmed], Unconfirmed: counts[store.StatusUnconfirmed],
			Unsubscribed: counts[store.StatusUnsubscribed]}}
}

func listLists(a *API, w http.ResponseWriter, r *http.Request) error {
	lists, err := a.cfg.Campaigns.Lists(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Lists []listView `json:"lists"`
	}{Lists: make([]listView, 0, len(lists))}
	for _, l := range lists {
		out.Lists = append(out.Lists, viewList(l.List, l.Counts))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// listInput is the body of POST /api/v1/lists.
type listInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	OptIn       string `json:"opt_in"`
}

func createList(a *API, w http.ResponseWriter, r *http.Request) error {
	var in listInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := a.cfg.Campaigns.CreateList(r.Context(), campaign.ListInput{Name: in.Name, Description: in.Description, OptIn: in.OptIn})
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusCreated, viewList(l, nil))
	return nil
}

type subscriberView struct {
	ID           int64             `json:"id"`
	Address      string            `json:"address"`
	Name         string            `json:"name"`
	Attributes   map[string]any    `json:"attributes"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	Subscription *subscriptionView `json:"subscription,omitempty"`
}

type subscriptionView struct {
	ListID    int64       `json:"list_id"`
	Status    string      `json:"status"`
	Consent   consentView `json:"consent"`
	UpdatedAt time.Time   `json:"updated_at"`
}

type consentView struct {
	At       time.Time `json:"at"`
	Source   string    `json:"source"`
	IP       string    `json:"ip"`
	Text     string    `json:"text"`
	Tracking bool      `json:"tracking"`
}

func viewSubscriber(s store.Subscriber, sub *store.Subscription) subscriberView {
	attrs := s.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	v := subscriberView{ID: s.ID, Address: s.Address, Name: s.Name, Attributes: attrs, CreatedAt: s.CreatedAt.UTC(),
		UpdatedAt: s.UpdatedAt.UTC()}
	if sub != nil {
		c := sub.Consent
		v.Subscription = &subscriptionView{ListID: sub.ListID, Status: string(sub.Status), UpdatedAt: sub.UpdatedAt.UTC(),
			Consent: consentView{At: c.At.UTC(), Source: string(c.Source), IP: c.IP, Text: c.Text, Tracking: c.Tracking}}
	}
	return v
}

// pageLimit reads ?limit=: defaultPage when absent, at most maxPage.
func pageLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > maxPage {
		return 0, invalid("limit", "limit %q: want a number from 1 to %d", s, maxPage)
	}
	return n, nil
}

// listSubscribers pages through a list's subscribers in id order: ?after=ID&limit=N; the
// answer's next_after is the after of the next page, absent on the last one.
func listSubscribers(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return invalid("after", "after %q: want a subscriber id", s)
		}
	}
	l, err := a.cfg.Campaigns.ListByID(r.Context(), id)
	if err != nil {
		return err
	}
	page, err := a.cfg.Campaigns.Subscribers(r.Context(), l.Name, after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Subscribers []subscriberView `json:"subscribers"`
		NextAfter   int64            `json:"next_after,omitempty"`
	}{Subscribers: make([]subscriberView, 0, len(page))}
	for _, e := range page {
		out.Subscribers = append(out.Subscribers, viewSubscriber(e.Subscriber, &e.Subscription))
	}
	if len(page) == limit {
		out.NextAfter = page[len(page)-1].ID
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// subscriberInput is the body of POST /api/v1/lists/{id}/subscribers.
type subscriberInput struct {
	Address     string         `json:"address"`
	Name        string         `json:"name"`
	Attributes  map[string]any `json:"attributes"`
	ConsentText string         `json:"consent_text"`
	Tracking    bool           `json:"tracking"`
	Confirmed   bool           `json:"confirmed"`
}

// addSubscriber subscribes one address to the list, with the consent source "api" and the
// request's address (truncated) as the consent record.
func addSubscriber(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in subscriberInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := a.cfg.Campaigns.ListByID(r.Context(), id)
	if err != nil {
		return err
	}
	saved, err := a.cfg.Campaigns.SaveSubscriber(r.Context(), campaign.SubscriberInput{
		Address: in.Address, Name: in.Name, Attributes: in.Attributes, List: l.Name,
		Source: store.SourceAPI, IP: clientIP(r), ConsentText: in.ConsentText, Tracking: in.Tracking, Confirmed: in.Confirmed,
	})
	if err != nil {
		return err
	}
	sub, subs, err := a.cfg.Campaigns.Subscriber(r.Context(), saved.Address)
	if err != nil {
		return err
	}
	var mine *store.Subscription
	for i := range subs {
		if subs[i].ListID == l.ID {
			mine = &subs[i]
		}
	}
	a.writeJSON(w, r, http.StatusCreated, viewSubscriber(sub, mine))
	return nil
}
